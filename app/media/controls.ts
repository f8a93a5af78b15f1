/**
 * Mute, camera off/on, camera switch and screen share, as signals and
 * actions for the store. Every change of outgoing video goes through
 * session.replaceVideoTrack (no renegotiation), and every change of state is
 * told to the other side (muted badge, camera-off placeholder, screen fit).
 */
import { batch, createSignal } from 'solid-js';
import type { MediaState } from '../../protocol/index';
import { isCallError, type CallErrorReason } from '../call/errors';
import type { CallSession } from '../call/session';
import { videoIsSending } from '../call/stats';
import { CameraSwitcher, facingOf, listCameras, openCamera } from '../media/camera';
import { canShareScreen, openScreen } from '../media/screen';

/** The OS call controls (lock screen, PiP window) show our mute/camera state, where the browser has them. */
function showInMediaSession(state: MediaState): void {
  const ms = (typeof navigator !== 'undefined' ? navigator.mediaSession : undefined) as (MediaSession & { setMicrophoneActive?: (on: boolean) => Promise<void>; setCameraActive?: (on: boolean) => Promise<void> }) | undefined;
  void ms?.setMicrophoneActive?.(!state.audioMuted)?.catch(() => undefined);
  void ms?.setCameraActive?.(!state.videoOff)?.catch(() => undefined);
}

export function createMediaControls(stream: MediaStream, session: () => CallSession | null, onError: (reason: CallErrorReason) => void) {
  const [muted, setMuted] = createSignal(false);
  const [cameraOff, setCameraOff] = createSignal(false);
  const [sharing, setSharing] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [cameraCount, setCameraCount] = createSignal(0);
  const [mirrored, setMirrored] = createSignal(true);
  const [selfStream, setSelfStream] = createSignal<MediaStream>(stream);
  const switcher = new CameraSwitcher();
  let camera: MediaStreamTrack | null = stream.getVideoTracks()[0] ?? null;
  let cameraId = camera?.getSettings().deviceId;
  let screen: MediaStreamTrack | null = null;

  void listCameras().then((c) => setCameraCount(c.length), () => setCameraCount(0));

  /** Back to the camera (or to nothing, if the camera is off). stop() doesn't fire `ended`, so both paths call this. */
  const endShare = async (track: MediaStreamTrack) => {
    if (screen !== track) return;
    screen = null;
    track.stop();
    batch(() => {
      setSharing(false);
      setSelfStream(stream);
    });
    await session()?.replaceVideoTrack(camera);
    tell();
  };

  const tell = () => {
    const state: MediaState = { audioMuted: muted(), videoOff: cameraOff() && !sharing(), screen: sharing() };
    session()?.setMediaState(state);
    showInMediaSession(state);
  };

  const setCamera = (track: MediaStreamTrack | null) => {
    for (const t of stream.getVideoTracks()) stream.removeTrack(t);
    camera = track;
    if (track) {
      stream.addTrack(track);
      cameraId = track.getSettings().deviceId ?? cameraId;
      setMirrored(facingOf(track) !== 'environment');
    }
  };

  /** Runs one control action at a time, turning failures into a visible error. */
  const exclusive = async (fn: () => Promise<void>) => {
    if (busy()) return;
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      if (isCallError(e)) onError(e.reason);
    } finally {
      setBusy(false);
    }
  };

  return {
    muted,
    cameraOff,
    sharing,
    busy,
    mirrored: () => mirrored() && !sharing(),
    selfStream,
    canSwitchCamera: () => cameraCount() > 1 && !cameraOff() && !sharing(),
    canShareScreen,
    toggleMute() {
      const next = !muted();
      for (const t of stream.getAudioTracks()) t.enabled = !next;
      setMuted(next);
      tell();
    },
    toggleCamera: () =>
      exclusive(async () => {
        if (!cameraOff()) {
          // Stop the track (camera light off) and send nothing: no frozen frame.
          camera?.stop();
          setCamera(null);
          if (!sharing()) await session()?.replaceVideoTrack(null);
          setCameraOff(true);
        } else {
          const track = await openCamera(cameraId);
          setCamera(track);
          if (!sharing()) await session()?.replaceVideoTrack(track);
          setCameraOff(false);
        }
        tell();
      }),
    switchCamera: () =>
      exclusive(async () => {
        const old = camera;
        // setCamera() moves cameraId to each candidate tried; remember ours.
        const original = cameraId;
        const next = await switcher.next(
          cameraId,
          () => {
            old?.stop();
            setCamera(null);
          },
          async (track) => {
            setCamera(track);
            await session()?.replaceVideoTrack(track);
          },
          async () => {
            const pc = session()?.peerConnection;
            return pc && pc.connectionState === 'connected' ? videoIsSending(pc) : true;
          },
        );
        if (!next) {
          // No other camera works: go back to the one we had.
          const back = await openCamera(original);
          setCamera(back);
          await session()?.replaceVideoTrack(back);
        }
      }),
    toggleShare: () =>
      exclusive(async () => {
        if (screen) {
          await endShare(screen);
          return;
        }
        const track = await openScreen();
        screen = track;
        // The browser's own "Stop sharing" bar ends the track; so does our button (via endShare).
        track.addEventListener('ended', () => void endShare(track));
        await session()?.replaceVideoTrack(track);
        batch(() => {
          setSharing(true);
          setSelfStream(new MediaStream([track]));
        });
        tell();
      }),
    /** Phones may end the camera while the page is hidden; reopen it when we're back. */
    reacquireCamera: () =>
      exclusive(async () => {
        if (cameraOff() || !camera || camera.readyState !== 'ended') return;
        const track = await openCamera(cameraId);
        setCamera(track);
        if (!sharing()) await session()?.replaceVideoTrack(track);
      }),
    /** Hang-up: stop what we opened besides the main stream. */
    stop() {
      screen?.stop();
    },
    /** The other side (re)connected: tell it our current state. */
    resend: tell,
  };
}

export type MediaControls = ReturnType<typeof createMediaControls>;
