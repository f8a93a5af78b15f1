/**
 * Small app-wide facts Home and the shell need without loading the call
 * core: are we online, is a call in progress (no update prompt during one).
 */
import { createSignal } from 'solid-js';
import { defaultProbePolicy, type ProbePolicy } from '../signaling/reconnect';

const [inCall, setInCall] = createSignal(false);
export { inCall, setInCall };

const [online, setOnline] = createSignal(true);
export { online };

let probing: Promise<void> | null = null;
let retry: ReturnType<typeof setTimeout> | null = null;
const probePolicy: ProbePolicy = defaultProbePolicy;
let offlineSince: number | null = null;
let attempt = 0;


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
      if (online()) {
        offlineSince = null;
        attempt = 0;
        retry = null;
      } else {
        offlineSince ??= Date.now();
        const delay = probePolicy.nextDelay({ attempt: attempt++, elapsedMs: Date.now() - offlineSince });
        retry = delay === null ? null : setTimeout(() => void checkOnline(), delay);
      }
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
