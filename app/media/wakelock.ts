/**
 * Keeps the screen on during a call (Screen Wake Lock API, where it exists).
 * The browser drops the lock when the page is hidden; it is re-requested when
 * the page becomes visible again.
 */
export class ScreenWakeLock {
  private sentinel: WakeLockSentinel | null = null;
  private wanted = false;
  /** One request at a time: visibilitychange can call acquire() while the first is pending. */
  private requesting = false;

  static get supported(): boolean {
    return typeof navigator !== 'undefined' && 'wakeLock' in navigator;
  }

  async acquire(): Promise<void> {
    this.wanted = true;
    if (!ScreenWakeLock.supported || this.sentinel || this.requesting || document.visibilityState !== 'visible') return;
    this.requesting = true;
    try {
      const sentinel = await navigator.wakeLock.request('screen');
      // Hung up while the request was in flight: nobody would release this one.
      if (!this.wanted) {
        await sentinel.release().catch(() => undefined);
        return;
      }
      this.sentinel = sentinel;
      sentinel.addEventListener('release', () => {
        if (this.sentinel === sentinel) this.sentinel = null;
      });
    } catch {
      // Battery saver or a policy said no: the call works, the screen may dim.
    } finally {
      this.requesting = false;
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
