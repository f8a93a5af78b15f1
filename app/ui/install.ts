/**
 * "Install app": Chromium fires beforeinstallprompt; iOS Safari never does,
 * but exposes navigator.standalone, so there we show an "Add to Home Screen"
 * hint instead. Nothing shows when already running installed.
 */
import { createSignal } from 'solid-js';

interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

const [deferred, setDeferred] = createSignal<BeforeInstallPromptEvent | null>(null);

export const isStandalone = (): boolean =>
  matchMedia('(display-mode: standalone)').matches || (navigator as { standalone?: boolean }).standalone === true;

/** iOS Safari: has navigator.standalone (false in a tab) and no install prompt. */
export const showIosHint = (): boolean => !isStandalone() && (navigator as { standalone?: boolean }).standalone === false && deferred() === null;

export const canInstall = (): boolean => !isStandalone() && deferred() !== null;

export function listenForInstallPrompt(): void {
  addEventListener('beforeinstallprompt', (e) => {
    e.preventDefault(); // keep it for our own button instead of the mini-infobar
    setDeferred(e as BeforeInstallPromptEvent);
  });
  addEventListener('appinstalled', () => setDeferred(null));
}

export async function install(): Promise<void> {
  const e = deferred();
  if (!e) return;
  await e.prompt();
  await e.userChoice.catch(() => undefined);
  setDeferred(null);
}
