/**
 * Service worker registration and updates (workbox-window). A new version
 * waits until the person taps Reload, and the prompt is never shown during
 * a call: the shell reads `updateReady() && !inCall()`.
 */
import { createSignal } from 'solid-js';
import type { Workbox } from 'workbox-window';

const [updateReady, setUpdateReady] = createSignal(false);
export { updateReady };

let wb: Workbox | null = null;
const CHECK_EVERY_MS = 60 * 60 * 1000;

export async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  const { Workbox } = await import('workbox-window');
  wb = new Workbox('/sw.js', { scope: '/' });
  wb.addEventListener('waiting', () => setUpdateReady(true));
  await wb.register();
  // Long-lived home-screen apps rarely navigate: look for updates now and then.
  setInterval(() => void wb?.update(), CHECK_EVERY_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void wb?.update();
  });
}

/** Activates the waiting worker, then reloads once it controls the page. */
export function applyUpdate(): void {
  if (!wb) return;
  wb.addEventListener('controlling', () => location.reload());
  wb.messageSkipWaiting();
}
