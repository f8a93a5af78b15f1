import { Show } from 'solid-js';
import { Icon } from './icons';
import { useCall } from './store';

function pictureInPicture(video: HTMLVideoElement | undefined): void {
  if (video && document.pictureInPictureEnabled && !document.pictureInPictureElement) void video.requestPictureInPicture().catch(() => undefined);
}

/** The bottom bar: large touch targets, each a <button> with an accessible name. */
export function Controls(props: { onLeave: () => void; remoteVideo: () => HTMLVideoElement | undefined }) {
  const call = useCall();
  const c = () => call.controls();
  const inCall = () => call.state() === 'connected' || call.state() === 'reconnecting';
  return (
    <nav class="controls" aria-label="Call controls">
      <Show when={c()}>
        {(ctl) => (
          <>
            <button type="button" aria-label={ctl().muted() ? 'Unmute microphone' : 'Mute microphone'} aria-pressed={ctl().muted()} onClick={() => ctl().toggleMute()}>
              <Icon name={ctl().muted() ? 'micOff' : 'mic'} />
            </button>
            <button type="button" aria-label={ctl().cameraOff() ? 'Camera on' : 'Camera off'} aria-pressed={ctl().cameraOff()} disabled={ctl().busy() || ctl().audioOnly()} onClick={() => void ctl().toggleCamera()}>
              <Icon name={ctl().cameraOff() ? 'camOff' : 'cam'} />
            </button>
            <button type="button" aria-label="Audio only" aria-pressed={ctl().audioOnly()} disabled={ctl().busy()} onClick={() => void ctl().toggleAudioOnly()}>
              <Icon name="headset" />
            </button>
            <Show when={ctl().canSwitchCamera()}>
              <button type="button" aria-label="Switch camera" disabled={ctl().busy()} onClick={() => void ctl().switchCamera()}>
                <Icon name="flip" />
              </button>
            </Show>
            <Show when={ctl().canShareScreen()}>
              <button type="button" aria-label={ctl().sharing() ? 'Stop sharing' : 'Share screen'} aria-pressed={ctl().sharing()} disabled={ctl().busy() || ctl().audioOnly()} onClick={() => void ctl().toggleShare()}>
                <Icon name="screen" />
              </button>
            </Show>
            <Show when={inCall() && document.pictureInPictureEnabled}>
              <button type="button" aria-label="Picture in picture" onClick={() => pictureInPicture(props.remoteVideo())}>
                <Icon name="pip" />
              </button>
            </Show>
          </>
        )}
      </Show>
      <button type="button" class="hangup" aria-label="Hang up" onClick={props.onLeave}>
        <Icon name="hangup" />
      </button>
    </nav>
  );
}
