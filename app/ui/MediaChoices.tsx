import { Show } from 'solid-js';
import { setCallPrefs } from '../lib/settings';
import { Icon } from './icons';
import { useCall } from './store';
import { t } from '../i18n';

/**
 * The pre-join choices (issue 14): camera, microphone, audio only. Each tap
 * applies at once to the preview and to what the call will send, and is
 * remembered on this device for the next call.
 */
export function MediaChoices() {
  const call = useCall();
  return (
    <Show when={call.controls()}>
      {(ctl) => {
        const remember = () => setCallPrefs({ camera: !ctl().cameraOff(), microphone: !ctl().muted(), audioOnly: ctl().audioOnly() });
        return (
          <div class="choices" role="group" aria-label={t('prejoin.choices')}>
            <button type="button" class="choice" aria-pressed={!ctl().muted()} onClick={() => { ctl().toggleMute(); remember(); }}>
              <Icon name={ctl().muted() ? 'micOff' : 'mic'} />
              <span>{t('prejoin.microphone')}</span>
            </button>
            <button type="button" class="choice" aria-pressed={!ctl().cameraOff()} disabled={ctl().busy() || ctl().audioOnly()} onClick={() => void ctl().toggleCamera().then(remember)}>
              <Icon name={ctl().cameraOff() ? 'camOff' : 'cam'} />
              <span>{t('prejoin.camera')}</span>
            </button>
            <button type="button" class="choice" aria-pressed={ctl().audioOnly()} disabled={ctl().busy()} onClick={() => void ctl().toggleAudioOnly().then(remember)}>
              <Icon name="headset" />
              <span>{t('common.audioOnly')}</span>
            </button>
          </div>
        );
      }}
    </Show>
  );
}

/** Shown instead of a picture: audio only, video paused by a weak link, or a camera turned off. */
export function VideoPlaceholder(props: { testid: string; label: string; text: string }) {
  return (
    <div class="placeholder" data-testid={props.testid} role="img" aria-label={props.label}>
      <span class="avatar" aria-hidden="true">👤</span>
      <span>{props.text}</span>
    </div>
  );
}
