/**
 * Where the other person's voice plays (issue 14). Everything is feature-
 * detected: a control is shown only where the browser can do what it says.
 *
 * - setSinkId (Chromium desktop, Firefox, Safari 18.4+): list the audio
 *   outputs (speaker, earpiece, headsets) and play the remote media there.
 * - selectAudioOutput (Firefox): the browser's own picker, which also grants
 *   the labels of outputs the page may use.
 * - Neither (Android Chrome, older iOS): the OS routes sound to the headset
 *   whose microphone is in use, so choosing a headset microphone moves the
 *   sound too (controls.ts switchMicrophone).
 * - navigator.audioSession (Safari 17+): 'play-and-record' makes iOS treat
 *   the page as a call (earpiece/speaker routing, the mute switch ignored).
 */

type SinkElement = HTMLMediaElement & { setSinkId?: (id: string) => Promise<void>; sinkId?: string };
type OutputDevices = MediaDevices & { selectAudioOutput?: (options?: { deviceId?: string }) => Promise<MediaDeviceInfo> };

export const canChooseOutput = (): boolean => typeof HTMLMediaElement !== 'undefined' && typeof (HTMLMediaElement.prototype as SinkElement).setSinkId === 'function';

export const canPickOutput = (): boolean => typeof (navigator.mediaDevices as OutputDevices | undefined)?.selectAudioOutput === 'function';

/** `label` is empty until the page has microphone permission; the UI then names it by `n`, its place in the list from 1. */
export interface SoundDevice {
  id: string;
  label: string;
  n: number;
}

/** Outputs the page may use; labels are empty until the page has microphone permission. */
export async function listOutputs(): Promise<SoundDevice[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === 'audiooutput')
    .map((d, i) => ({ id: d.deviceId, label: d.label, n: i + 1 }));
}

export async function listMicrophones(): Promise<SoundDevice[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((d) => d.kind === 'audioinput' && d.deviceId !== '').map((d, i) => ({ id: d.deviceId, label: d.label, n: i + 1 }));
}

/** Plays `el` on output `id` ('' = the system default). */
export async function useOutput(el: HTMLMediaElement, id: string): Promise<void> {
  await (el as SinkElement).setSinkId?.(id);
}

export const currentOutput = (el: HTMLMediaElement | undefined): string => (el as SinkElement | undefined)?.sinkId ?? '';

/** The browser's own output picker (Firefox); resolves to the chosen device's id, or null if dismissed. */
export async function pickOutput(): Promise<string | null> {
  try {
    return (await (navigator.mediaDevices as OutputDevices).selectAudioOutput!()).deviceId;
  } catch {
    return null;
  }
}

/** Safari: route this page's audio as a call. A no-op elsewhere. */
export function useCallAudioSession(): void {
  const session = (navigator as { audioSession?: { type: string } }).audioSession;
  if (!session) return;
  try {
    session.type = 'play-and-record';
  } catch {
    // An older implementation without this type: the default routing stays.
  }
}
