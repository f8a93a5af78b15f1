/**
 * Service worker registration and updates. A new version waits until the
 * person taps Reload, and the prompt is never shown during a call: the shell
 * reads `updateReady() && !inCall()`.
 * Written against the ServiceWorker API directly rather than workbox-window:
 * the three things we use (a worker waiting, SKIP_WAITING, reload on
 * controllerchange) cost ~0.3 KB here against 2.1 KB gzip, which the
 * language catalogs needed (issue 15, scripts/check-size.ts).
 */
import { createSignal } from 'solid-js';

const [updateReady, setUpdateReady] = createSignal(false);
export { updateReady };

let reg: ServiceWorkerRegistration | null = null;
const CHECK_EVERY_MS = 60 * 60 * 1000;

/** A worker that has installed while another one controls this page is an update waiting for us (the first install claims the page, sw.ts). */
function watch(worker: ServiceWorker | null): void {
  if (!worker) return;
  const check = () => {
    if (worker.state === 'installed' && navigator.serviceWorker.controller) setUpdateReady(true);
  };
  check();
  worker.addEventListener('statechange', check);
}

export async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  const r = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  reg = r;
  watch(r.waiting);
  watch(r.installing);
  r.addEventListener('updatefound', () => watch(r.installing));
  // Long-lived home-screen apps rarely navigate: look for updates now and then.
  setInterval(() => void r.update().catch(() => undefined), CHECK_EVERY_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void r.update().catch(() => undefined);
  });
}

/** Activates the waiting worker, then reloads once it controls the page. */
export function applyUpdate(): void {
  const waiting = reg?.waiting;
  if (!waiting) return;
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
  waiting.postMessage({ type: 'SKIP_WAITING' });
}
