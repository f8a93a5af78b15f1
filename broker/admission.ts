/**
 * Requests waiting for a client's admission to its room. A joiner sends
 * `GET /api/ice?client=…&wait=1` together with its SUBSCRIBE, and the answer
 * (its TURN credentials) leaves the moment the broker admits it, instead of
 * a round trip after the SUBACK: on a phone with 150 ms to the server, Join
 * is that much sooner (issue 14, "setup under signaling delay").
 *
 * Waiting costs an open request and a timer, so it is bounded per address
 * (a carrier's shared address holds many joiners, each waiting about one
 * round trip) and in total, and every wait ends after `timeoutMs`. A wait
 * that can't be taken, or that times out, is answered as if it hadn't
 * waited: the admission check then says 403, as before.
 */

export interface AdmissionWaitLimits {
  timeoutMs: number;
  /** Waits one address (limitKey: IPv4, or an IPv6 /64) may hold at once. */
  perAddress: number;
  /** Waits the whole server may hold at once. */
  total: number;
}

export const DEFAULT_ADMISSION_WAIT: AdmissionWaitLimits = { timeoutMs: 5_000, perAddress: 200, total: 5_000 };

interface Waiter {
  wake(admitted: boolean): void;
}

export class AdmissionWaits {
  private readonly byClient = new Map<string, Set<Waiter>>();
  private readonly byAddress = new Map<string, number>();
  private count = 0;

  constructor(private readonly limits: AdmissionWaitLimits = DEFAULT_ADMISSION_WAIT) {}

  /**
   * Resolves true once `clientId` is admitted; false after the timeout, when
   * `gone` fires first (the request went away), or at once when the bounds
   * are full.
   */
  wait(clientId: string, address: string, gone: (listener: () => void) => void): Promise<boolean> {
    const held = this.byAddress.get(address) ?? 0;
    if (held >= this.limits.perAddress || this.count >= this.limits.total) return Promise.resolve(false);
    return new Promise((resolve) => {
      let done = false;
      const waiter: Waiter = {
        wake: (admitted) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          const set = this.byClient.get(clientId);
          set?.delete(waiter);
          if (set?.size === 0) this.byClient.delete(clientId);
          const left = (this.byAddress.get(address) ?? 1) - 1;
          if (left > 0) this.byAddress.set(address, left);
          else this.byAddress.delete(address);
          this.count--;
          resolve(admitted);
        },
      };
      const timer = setTimeout(() => waiter.wake(false), this.limits.timeoutMs);
      timer.unref?.();
      let set = this.byClient.get(clientId);
      if (!set) this.byClient.set(clientId, (set = new Set()));
      set.add(waiter);
      this.byAddress.set(address, held + 1);
      this.count++;
      gone(() => waiter.wake(false));
    });
  }

  /** The broker admitted `clientId` to its room: its waiting requests go on. */
  admitted(clientId: string): void {
    const set = this.byClient.get(clientId);
    if (set) for (const w of [...set]) w.wake(true);
  }

  /** Waits held now (for tests and metrics). */
  get size(): number {
    return this.count;
  }
}
