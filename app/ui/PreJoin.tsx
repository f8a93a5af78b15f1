import { Show } from 'solid-js';
import { MediaChoices } from './MediaChoices';
import { RelayToggle } from './RelayToggle';
import { useCall } from './store';
import { Video } from './Video';
import { t } from '../i18n';

export function PreJoin() {
  const call = useCall();
  return (
    <main class="screen prejoin" data-screen="prejoin">
      <Show when={!call.controls()?.cameraOff() && !call.controls()?.audioOnly()} fallback={<div class="preview preview-off" role="img" aria-label={t('common.yourCameraOff')}>{call.controls()?.audioOnly() ? t('common.audioOnly') : t('common.cameraOff')}</div>}>
        <Video stream={call.localStream()} muted class="preview mirrored" testid="local-video" label={t('prejoin.yourCamera')} />
      </Show>
      <div class="prejoin-panel">
        <h1>{t('prejoin.title')}</h1>
        <p>{t('prejoin.body')}</p>
        <Show when={call.offline()}>
          <p class="offline" role="status" id="offline-reason">
            {t('prejoin.offline')}
          </p>
        </Show>
        <MediaChoices />
        <button type="button" class="primary big" disabled={call.offline() || call.joining()} aria-describedby={call.offline() ? 'offline-reason' : undefined} onClick={() => call.join()}>
          {call.joining() ? t('prejoin.joining') : t('prejoin.join')}
        </button>
        <RelayToggle />
      </div>
    </main>
  );
}
