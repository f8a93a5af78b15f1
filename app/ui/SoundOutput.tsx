import { createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { canChooseOutput, canPickOutput, currentOutput, listMicrophones, listOutputs, pickOutput, useOutput, type SoundDevice } from '../media/output';
import { useCall } from './store';
import { t } from '../i18n';

/**
 * Where the sound plays (issue 14), in the call details. One of three
 * controls, whichever this browser can do (output.ts): a list of outputs
 * (setSinkId), the browser's own picker (selectAudioOutput), or, where
 * neither exists, the microphone list (the OS plays sound on the headset
 * whose microphone is in use). Nothing at all if there is nothing to choose.
 */
export function SoundOutput(props: { media: () => HTMLMediaElement | undefined }) {
  const call = useCall();
  const [outputs, setOutputs] = createSignal<SoundDevice[]>([]);
  const [mics, setMics] = createSignal<SoundDevice[]>([]);
  const [output, setOutput] = createSignal(currentOutput(props.media()));
  const refresh = () => {
    if (canChooseOutput()) void listOutputs().then(setOutputs, () => setOutputs([]));
    else if (!canPickOutput()) void listMicrophones().then(setMics, () => setMics([]));
  };
  onMount(() => {
    refresh();
    // A headset plugged in or paired mid-call appears in the list.
    navigator.mediaDevices?.addEventListener('devicechange', refresh);
    onCleanup(() => navigator.mediaDevices?.removeEventListener('devicechange', refresh));
  });
  const choose = async (id: string) => {
    const el = props.media();
    if (!el) return;
    await useOutput(el, id).catch(() => undefined);
    setOutput(currentOutput(el));
  };
  return (
    <>
      <Show when={canChooseOutput() && outputs().length > 0}>
        <label class="field">
          {t('sound.output')}
          <select data-testid="sound-output" value={output()} onChange={(e) => void choose(e.currentTarget.value)}>
            <For each={outputs()}>{(d) => <option value={d.id === 'default' ? '' : d.id}>{d.label || (d.id === 'default' || d.id === '' ? t('sound.default') : t('sound.outputN', { n: d.n }))}</option>}</For>
          </select>
        </label>
      </Show>
      <Show when={!canChooseOutput() && canPickOutput()}>
        <button type="button" class="secondary toggle" onClick={() => void pickOutput().then((id) => (id === null ? undefined : choose(id)))}>
          {t('sound.choose')}
        </button>
      </Show>
      <Show when={!canChooseOutput() && !canPickOutput() && mics().length > 1 && call.controls()}>
        <label class="field">
          {t('sound.headset')}
          <select data-testid="microphone" onChange={(e) => void call.controls()?.switchMicrophone(e.currentTarget.value)}>
            <For each={mics()}>{(d) => <option value={d.id}>{d.label || t('sound.microphoneN', { n: d.n })}</option>}</For>
          </select>
        </label>
      </Show>
    </>
  );
}
