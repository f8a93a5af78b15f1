/**
 * Small app-wide facts Home and the shell need without loading the call
 * core: are we online, is a call in progress (no update prompt during one).
 */
import { createSignal } from 'solid-js';

const [inCall, setInCall] = createSignal(false);
export { inCall, setInCall };

const [online, setOnline] = createSignal(true);
export { online };

let probing: Promise<void> | null = null;
let retry: ReturnType<typeof setTimeout> | null = null;

/**
 * navigator.onLine can read true after an offline reload served by the
 * service worker, so "online" means: the server answered /healthz (never cached).
 */
export function checkOnline(): Promise<void> {
  probing ??= (async () => {
    try {
      const res = await fetch('/healthz', { cache: 'no-store' });
      setOnline(res.ok);
    } catch {
      setOnline(false);
    } finally {
      probing = null;
      if (retry !== null) clearTimeout(retry);
      // While offline, look again now and then: the 'online' event isn't reliable on every platform.
      retry = online() ? null : setTimeout(() => void checkOnline(), 3000);
    }
  })();
  return probing;
}

export function watchConnectivity(): void {
  addEventListener('offline', () => {
    setOnline(false);
    void checkOnline();
  });
  addEventListener('online', () => void checkOnline());
  if (!navigator.onLine) setOnline(false);
  void checkOnline();
}

/** Resolves the next time the server answers (at once if it does now). */
export async function onceOnline(): Promise<void> {
  for (;;) {
    await checkOnline();
    if (online()) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        removeEventListener('online', done);
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(done, 3000);
      addEventListener('online', done);
    });
  }
}
