import { mediaError } from './devices';

/** Shown only where the browser can share a screen (not on most phones). */
export const canShareScreen = (): boolean => typeof navigator.mediaDevices?.getDisplayMedia === 'function';

export async function openScreen(): Promise<MediaStreamTrack> {
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const track = stream.getVideoTracks()[0];
    if (!track) throw new DOMException('no screen track', 'NotFoundError');
    // Tell the encoder this is text and slides: keep it sharp, drop frames instead.
    if ('contentHint' in track) track.contentHint = 'detail';
    return track;
  } catch (e) {
    throw mediaError(e);
  }
}
