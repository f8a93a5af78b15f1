/**
 * Camera and microphone. Browser errors become CallErrors with a reason the
 * UI can explain; no constraint a phone camera may reject (no min sizes).
 */
import { CallError, isCallError } from '../call/errors';

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

/**
 * A refusal no person made (issue 15): in-app browsers (webviews inside
 * Instagram, Facebook, LINE…) often have `mediaDevices`, but the app never
 * forwards the permission request, so getUserMedia fails at once with
 * NotAllowedError while the site's permission is not "denied" (Android
 * WebView says "prompt"; older iOS webviews can't even be asked). A person's
 * refusal either took them a moment to tap, or was remembered, and then the
 * Permissions API says "denied". Chrome's automatic block after repeated
 * dismissals says so in its message. `NotSupportedError` (or a TypeError: not
 * implemented) means the same: this browser can't call.
 */
export const NO_PROMPT_MS = 250;

export function refusedWithoutAsking(e: unknown, elapsedMs: number, permission: PermissionState | 'unknown'): boolean {
  const { name, message = '' } = (e as { name?: string; message?: string } | null) ?? {};
  if (name === 'NotSupportedError' || name === 'TypeError') return true;
  return name === 'NotAllowedError' && elapsedMs < NO_PROMPT_MS && permission !== 'denied' && !/dismiss/i.test(message);
}

async function cameraPermission(): Promise<PermissionState | 'unknown'> {
  try {
    return (await navigator.permissions.query({ name: 'camera' as PermissionName })).state;
  } catch {
    return 'unknown';
  }
}

/** getUserMedia, with a webview's silent refusal reported as a browser that can't call (unsupported-browser). */
async function getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
  const started = performance.now();
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (e) {
    if (refusedWithoutAsking(e, performance.now() - started, await cameraPermission())) throw CallError.unsupportedBrowser('a camera it may use (an in-app browser?)');
    throw e;
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
    return await getUserMedia({ audio: AUDIO_CONSTRAINTS, video: camera ? { ...CAMERA_CONSTRAINTS, facingMode: 'user' } : false });
  } catch (e) {
    // `facingMode` is only a preference here, but some browsers still reject
    // it; retry once with the plainest request before giving up.
    if ((e as { name?: string }).name === 'OverconstrainedError') {
      try {
        return await getUserMedia({ audio: true, video: camera });
      } catch (e2) {
        throw isCallError(e2) ? e2 : mediaError(e2);
      }
    }
    throw isCallError(e) ? e : mediaError(e);
  }
}

export function stopStream(stream: MediaStream | null | undefined): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}
