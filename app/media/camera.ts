/**
 * Camera selection on phones and laptops. Switching stops the old track
 * first (many phones cannot open two cameras at once), then opens the next
 * camera by deviceId: fake and many real cameras report no facingMode, so
 * cycling by deviceId is the fallback that always works. A camera that opens
 * but produces nothing the encoder can send (IR/depth cameras; Chromium's
 * fake_device_1) is skipped and remembered.
 */
import { CAMERA_CONSTRAINTS, mediaError } from './devices';

export type Facing = 'user' | 'environment' | 'unknown';

export async function listCameras(): Promise<MediaDeviceInfo[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((d) => d.kind === 'videoinput' && d.deviceId !== '');
}

/** Front, back, or unknown: from the track's settings, else from the device label. */
export function facingOf(track: MediaStreamTrack, label = track.label): Facing {
  const f = track.getSettings().facingMode;
  if (f === 'user' || f === 'environment') return f;
  if (/back|rear|environment/i.test(label)) return 'environment';
  if (/front|user|face/i.test(label)) return 'user';
  return 'unknown';
}

export async function openCamera(deviceId?: string): Promise<MediaStreamTrack> {
  try {
    const video = deviceId ? { ...CAMERA_CONSTRAINTS, deviceId: { exact: deviceId } } : { ...CAMERA_CONSTRAINTS, facingMode: 'user' };
    const stream = await navigator.mediaDevices.getUserMedia({ video });
    const track = stream.getVideoTracks()[0];
    if (!track) throw new DOMException('no video track', 'NotFoundError');
    return track;
  } catch (e) {
    throw mediaError(e);
  }
}

/** Tells whether a freshly switched-to track actually reaches the other side. */
export type VideoCheck = (track: MediaStreamTrack) => Promise<boolean>;

export class CameraSwitcher {
  private readonly unusable = new Set<string>();

  /**
   * Opens the camera after `current` in device order, skipping ones that fail
   * to open or that `check` rejects. Calls `stopCurrent` before opening (one
   * camera at a time) and `use` for each candidate. Returns the new track, or
   * null if no other camera works (the caller reopens the old one).
   */
  async next(currentDeviceId: string | undefined, stopCurrent: () => void, use: (track: MediaStreamTrack) => Promise<void>, check: VideoCheck): Promise<MediaStreamTrack | null> {
    const cameras = await listCameras();
    const start = Math.max(0, cameras.findIndex((c) => c.deviceId === currentDeviceId));
    const order = [...cameras.slice(start + 1), ...cameras.slice(0, start)].filter((c) => !this.unusable.has(c.deviceId));
    stopCurrent();
    for (const cam of order) {
      let track: MediaStreamTrack;
      try {
        track = await openCamera(cam.deviceId);
      } catch {
        this.unusable.add(cam.deviceId);
        continue;
      }
      await use(track);
      if (await check(track)) return track;
      this.unusable.add(cam.deviceId);
      track.stop();
    }
    return null;
  }
}
