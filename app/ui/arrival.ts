/**
 * "The other person joined": a caller who switched to another app to send
 * the link must notice (issue 16). When the call goes from waiting to
 * connecting: a short chime, a vibration, the tab title, and a notification
 * if the page is hidden and notifications were allowed.
 */
import { createEffect, on, onCleanup, type Accessor } from 'solid-js';
import { joinSoundUrl } from '../media/ringtone';
import { t } from '../i18n';

const TITLE = 'Tandem';

let sound: HTMLAudioElement | null = null;

function chime(): void {
  if (!sound) {
    sound = document.createElement('audio');
    sound.src = joinSoundUrl();
    sound.dataset.testid = 'join-sound';
    sound.hidden = true;
    document.body.append(sound);
  }
  sound.currentTime = 0;
  sound.dataset.played = String(Number(sound.dataset.played ?? '0') + 1);
  // Blocked autoplay (no tap on this page yet) only loses the chime; the title and notification remain.
  void sound.play().catch(() => undefined);
}

async function notify(): Promise<void> {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const options = { body: t('arrival.body'), tag: 'tandem-joined', icon: '/pwa-192x192.png' };
  // Android Chrome allows notifications only through the service worker.
  const reg = await navigator.serviceWorker?.getRegistration().catch(() => undefined);
  if (reg) await reg.showNotification(t('arrival.title'), options);
  else new Notification(t('arrival.title'), options);
}

/** Watches the call's state; cues once per arrival (the joiner itself never waited, so it gets none). */
export function watchArrival(state: Accessor<string>): void {
  createEffect(
    on(state, (now, before) => {
      if (before !== 'waiting' || (now !== 'connecting' && now !== 'connected')) return;
      chime();
      navigator.vibrate?.(200);
      if (document.visibilityState === 'hidden') {
        document.title = t('arrival.tabTitle');
        void notify().catch(() => undefined);
      }
    }),
  );
  const restore = () => {
    if (document.visibilityState === 'visible') document.title = TITLE;
  };
  document.addEventListener('visibilitychange', restore);
  onCleanup(() => {
    document.removeEventListener('visibilitychange', restore);
    document.title = TITLE;
  });
}

/** While waiting, the moment the person shares the link (and is about to leave for another app) is the moment to ask. */
export function askToNotifyOnJoin(): void {
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
}
