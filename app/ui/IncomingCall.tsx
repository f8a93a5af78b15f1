import { createEffect, onCleanup, Show } from 'solid-js';
import { ringtoneUrl } from '../media/ringtone';
import { answerRing, contacts, incomingRing } from './contacts';
import { t } from '../i18n';

type AudioSessionNavigator = Navigator & { audioSession?: { type: string } };

/**
 * "<name> is calling": over whatever screen is open, with Answer and Decline
 * and a ringtone. The web has no API for the phone's silent switch; on
 * Safari the 'ambient' audio session makes the ringtone obey it.
 */
export function IncomingCall() {
  let url: string | null = null;
  createEffect(() => {
    const ring = incomingRing();
    const session = (navigator as AudioSessionNavigator).audioSession;
    if (ring) {
      if (session) session.type = 'ambient';
      navigator.vibrate?.([400, 200, 400, 1600]);
    } else {
      navigator.vibrate?.(0);
    }
  });
  onCleanup(() => {
    if (url) URL.revokeObjectURL(url);
  });
  return (
    <Show when={incomingRing()}>
      {(ring) => (
        <section class="incoming" data-testid="incoming-call" role="alertdialog" aria-labelledby="incoming-name" aria-describedby="incoming-what">
          <span class="avatar" aria-hidden="true">👤</span>
          <h1 id="incoming-name">{ring().name}</h1>
          <p id="incoming-what">{t('incoming.what')}</p>
          <audio data-testid="ringtone" src={(url ??= ringtoneUrl())} autoplay loop />
          <div class="row">
            <button type="button" class="danger big" onClick={() => void contacts().then((c) => c.decline())}>
              {t('incoming.decline')}
            </button>
            <button type="button" class="primary big" onClick={() => void answerRing()}>
              {t('incoming.answer')}
            </button>
          </div>
        </section>
      )}
    </Show>
  );
}
