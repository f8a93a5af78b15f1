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
        <Show when={call.othersInRoom() !== null} fallback={<p>{t('prejoin.body')}</p>}>
          {/* From the server's room registry, asked before the camera opened and every 10 s since (issue 16). */}
          <p class="room-presence" role="status" data-testid="room-presence" data-others={call.othersInRoom()}>
            {call.othersInRoom()! > 0 ? t('prejoin.othersWaiting') : t('prejoin.nobodyYet')}
          </p>
        </Show>
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
