/**
 * Small app-wide facts Home and the shell need without loading the call
 * core: are we online, is a call in progress (no update prompt during one).
 */
import { createSignal } from 'solid-js';
import { realClock } from '../call/ports';
import { waitForServer, wakeOnOnline } from '../signaling/config';

const [inCall, setInCall] = createSignal(false);
export { inCall, setInCall };

const [online, setOnline] = createSignal(true);
export { online };

let probing: Promise<void> | null = null;

/**
 * "Online" means the server answered /healthz: navigator.onLine can read
 * true after an offline reload served by the service worker. Asks now; while
 * it gets no answer, `online` is false and it keeps asking on the probe
 * policy (the call page's wait for the network is the same loop).
 */
function probe(): void {
  probing ??= waitForServer(realClock, wakeOnOnline, { onMiss: () => setOnline(false) })
    .then(() => {
      setOnline(true);
    })
    .finally(() => {
      probing = null;
    });
}

export function watchConnectivity(): void {
  addEventListener('offline', () => {
    setOnline(false);
    probe();
  });
  addEventListener('online', probe);
  if (!navigator.onLine) setOnline(false);
  probe();
}
