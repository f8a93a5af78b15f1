/**
 * Keeps the screen on during a call (Screen Wake Lock API, where it exists).
 * The browser drops the lock when the page is hidden; it is re-requested when
 * the page becomes visible again.
 */
export class ScreenWakeLock {
  private sentinel: WakeLockSentinel | null = null;
  private wanted = false;

  static get supported(): boolean {
    return typeof navigator !== 'undefined' && 'wakeLock' in navigator;
  }

  async acquire(): Promise<void> {
    this.wanted = true;
    if (!ScreenWakeLock.supported || this.sentinel || document.visibilityState !== 'visible') return;
    try {
      this.sentinel = await navigator.wakeLock.request('screen');
      this.sentinel.addEventListener('release', () => (this.sentinel = null));
    } catch {
      // Battery saver or a policy said no: the call works, the screen may dim.
    }
  }

  /** Call on visibilitychange → visible. */
  async reacquire(): Promise<void> {
    if (this.wanted) await this.acquire();
  }

  async release(): Promise<void> {
    this.wanted = false;
    const s = this.sentinel;
    this.sentinel = null;
    await s?.release().catch(() => undefined);
  }
}
