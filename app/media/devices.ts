/**
 * Camera and microphone. Browser errors become CallErrors with a reason the
 * UI can explain; no constraint a phone camera may reject (no min sizes).
 */
import { CallError } from '../call/errors';

export const CAMERA_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};

export const AUDIO_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** Maps a getUserMedia/getDisplayMedia rejection to a CallError. */
export function mediaError(e: unknown): CallError {
  const name = (e as { name?: string } | null)?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return CallError.permissionDenied(e);
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return CallError.noCamera(e);
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return CallError.cameraBusy(e);
    default:
      return CallError.mediaFailed(e);
  }
}

export function checkMediaSupport(): void {
  if (!globalThis.isSecureContext) throw CallError.insecureContext();
  if (!navigator.mediaDevices?.getUserMedia) throw CallError.unsupportedBrowser('getUserMedia');
  if (typeof RTCPeerConnection === 'undefined') throw CallError.unsupportedBrowser('WebRTC');
}

/**
 * Opens camera + microphone for the call, front camera first. Without
 * `camera` (camera off or audio only at join) the camera is not opened at
 * all: its light stays off, and no frame can leak before the choice applies.
 */
export async function openLocalMedia(camera = true): Promise<MediaStream> {
  checkMediaSupport();
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: AUDIO_CONSTRAINTS, video: camera ? { ...CAMERA_CONSTRAINTS, facingMode: 'user' } : false });
  } catch (e) {
    // `facingMode` is only a preference here, but some browsers still reject
    // it; retry once with the plainest request before giving up.
    if ((e as { name?: string }).name === 'OverconstrainedError') {
      try {
        return await navigator.mediaDevices.getUserMedia({ audio: true, video: camera });
      } catch (e2) {
        throw mediaError(e2);
      }
    }
    throw mediaError(e);
  }
}

export function stopStream(stream: MediaStream | null | undefined): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}
