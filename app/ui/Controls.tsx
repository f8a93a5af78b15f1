import { Show } from 'solid-js';
import { Icon } from './icons';
import { useCall } from './store';
import { t } from '../i18n';

function pictureInPicture(video: HTMLVideoElement | undefined): void {
  if (video && document.pictureInPictureEnabled && !document.pictureInPictureElement) void video.requestPictureInPicture().catch(() => undefined);
}

/** The bottom bar: large touch targets, each a <button> with an accessible name. */
export function Controls(props: { onLeave: () => void; remoteVideo: () => HTMLVideoElement | undefined }) {
  const call = useCall();
  const c = () => call.controls();
  const inCall = () => call.state() === 'connected' || call.state() === 'reconnecting';
  return (
    <nav class="controls" aria-label={t('controls.label')}>
      <Show when={c()}>
        {(ctl) => (
          <>
            <button type="button" aria-label={ctl().muted() ? t('controls.unmute') : t('controls.mute')} aria-pressed={ctl().muted()} onClick={() => ctl().toggleMute()}>
              <Icon name={ctl().muted() ? 'micOff' : 'mic'} />
            </button>
            <button type="button" aria-label={ctl().cameraOff() ? t('controls.cameraOn') : t('controls.cameraOff')} aria-pressed={ctl().cameraOff()} disabled={ctl().busy() || ctl().audioOnly()} onClick={() => void ctl().toggleCamera()}>
              <Icon name={ctl().cameraOff() ? 'camOff' : 'cam'} />
            </button>
            <button type="button" aria-label={t('controls.audioOnly')} aria-pressed={ctl().audioOnly()} disabled={ctl().busy()} onClick={() => void ctl().toggleAudioOnly()}>
              <Icon name="headset" />
            </button>
            <Show when={ctl().canSwitchCamera()}>
              <button type="button" aria-label={t('controls.switchCamera')} disabled={ctl().busy()} onClick={() => void ctl().switchCamera()}>
                <Icon name="flip" />
              </button>
            </Show>
            <Show when={ctl().canShareScreen()}>
              <button type="button" aria-label={ctl().sharing() ? t('controls.stopSharing') : t('controls.shareScreen')} aria-pressed={ctl().sharing()} disabled={ctl().busy() || ctl().audioOnly()} onClick={() => void ctl().toggleShare()}>
                <Icon name="screen" />
              </button>
            </Show>
            <Show when={inCall() && document.pictureInPictureEnabled}>
              <button type="button" aria-label={t('controls.pip')} onClick={() => pictureInPicture(props.remoteVideo())}>
                <Icon name="pip" />
              </button>
            </Show>
          </>
        )}
      </Show>
      <button type="button" class="hangup" aria-label={t('controls.hangUp')} onClick={props.onLeave}>
        <Icon name="hangup" />
      </button>
    </nav>
  );
}
