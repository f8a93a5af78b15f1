/**
 * Await one event instead of sleeping (STYLE 13). The timeout is only a fail-safe so a missing
 * event fails with a message naming it instead of hanging until vitest's own timeout.
 */

/** Anything with on/removeListener: Node emitters, mqtt.js clients, ws sockets. */
export interface Listenable {
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

export function waitFor<A extends unknown[] = any[]>(
  emitter: Listenable,
  event: string,
  options: { timeoutMs?: number; filter?: (...args: A) => boolean } = {},
): Promise<A> {
  const { timeoutMs = 5000, filter } = options;
  return new Promise<A>((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      if (filter && !filter(...(args as A))) return;
      cleanup();
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`'${event}' was not emitted within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      emitter.removeListener(event, listener);
    };
    emitter.on(event, listener);
  });
}
