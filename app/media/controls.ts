/**
 * Mute, camera off/on, camera switch and screen share: the one owner of the
 * local media state. A plain object with a typed `change` event; the Solid
 * store only mirrors it. Every change of outgoing video goes through the
 * target's replaceVideoTrack (no renegotiation), and every change of state is
 * told to the other side (muted badge, camera-off placeholder, screen fit).
 */
import type { MediaState } from '../../protocol/index';
import { isCallError, type CallErrorReason } from '../call/errors';
import { Emitter } from '../lib/emitter';
import { CameraSwitcher, facingOf, listCameras, openCamera } from './camera';
import { AUDIO_CONSTRAINTS, mediaError } from './devices';
import { canShareScreen, openScreen } from './screen';

/** Where the controls send outgoing video and state: the call's session. */
export interface VideoTarget {
  replaceVideoTrack(track: MediaStreamTrack | null): Promise<void>;
  setMediaState(state: MediaState): void;
  /** Whether the video sender encodes frames (false for a camera that opens but sends nothing). */
  videoIsSending(): Promise<boolean>;
  /** Replaces the outgoing audio without renegotiation (a headset microphone). */
  replaceAudioTrack?(track: MediaStreamTrack): Promise<void>;
}

export interface MediaControlsState {
  muted: boolean;
  cameraOff: boolean;
  sharing: boolean;
  /** A control action is running; the buttons wait. */
  busy: boolean;
  /** Show our own picture mirrored (front camera, not a screen). */
  mirrored: boolean;
  /** What our self-view shows: the camera stream, or the shared screen. */
  selfStream: MediaStream;
  canSwitchCamera: boolean;
  canShareScreen: boolean;
  /** Audio only: no video sent (camera closed), and the other side is asked to send none. */
  audioOnly: boolean;
  /** Our video capped low, and the other side asked to do the same. */
  dataSaver: boolean;
}

/** How the call starts (the pre-join choices the device remembers, app/lib/settings.ts). */
export interface InitialMedia {
  muted: boolean;
  cameraOff: boolean;
  audioOnly: boolean;
  dataSaver: boolean;
}

export type MediaControlsEvents = {
  change: (state: MediaControlsState) => void;
  error: (reason: CallErrorReason) => void;
};

/** The OS call controls (lock screen, PiP window) show our mute/camera state, where the browser has them. */
function showInMediaSession(state: MediaState): void {
  const ms = (typeof navigator !== 'undefined' ? navigator.mediaSession : undefined) as (MediaSession & { setMicrophoneActive?: (on: boolean) => Promise<void>; setCameraActive?: (on: boolean) => Promise<void> }) | undefined;
  void ms?.setMicrophoneActive?.(!state.audioMuted)?.catch(() => undefined);
  void ms?.setCameraActive?.(!state.videoOff)?.catch(() => undefined);
}

export class MediaControls extends Emitter<MediaControlsEvents> {
  private s: MediaControlsState;
  private readonly switcher = new CameraSwitcher();
  private camera: MediaStreamTrack | null;
  private cameraId: string | undefined;
  private screen: MediaStreamTrack | null = null;
  private cameraCount = 0;
  private target: VideoTarget | null = null;
  private stopped = false;

  constructor(
    private readonly stream: MediaStream,
    initial: InitialMedia = { muted: false, cameraOff: false, audioOnly: false, dataSaver: false },
  ) {
    super();
    this.camera = stream.getVideoTracks()[0] ?? null;
    this.cameraId = this.camera?.getSettings().deviceId;
    // A stream opened without a camera (camera off or audio only at join) has no video track.
    const cameraOff = initial.cameraOff || (!this.camera && !initial.audioOnly);
    if (this.camera && (cameraOff || initial.audioOnly)) {
      this.camera.stop();
      this.setCamera(null);
    }
    // Disabled before the track reaches a sender: the first packet is already silence.
    for (const t of stream.getAudioTracks()) t.enabled = !initial.muted;
    this.s = {
      muted: initial.muted, cameraOff, sharing: false, busy: false, mirrored: true, selfStream: stream, canSwitchCamera: false, canShareScreen: canShareScreen(),
      audioOnly: initial.audioOnly, dataSaver: initial.dataSaver,
    };
    void listCameras().then(
      (c) => {
        this.cameraCount = c.length;
        this.set({});
      },
      () => undefined,
    );
  }

  get state(): MediaControlsState {
    return this.s;
  }

  /** What the other side should know, in wire form. */
  get mediaState(): MediaState {
    const state: MediaState = { audioMuted: this.s.muted, videoOff: this.s.audioOnly || (this.s.cameraOff && !this.s.sharing), screen: this.s.sharing };
    if (this.s.audioOnly) state.audioOnly = true;
    if (this.s.dataSaver) state.dataSaver = true;
    return state;
  }

  /** The session that carries our video (set once the call exists); told our state at once. */
  attach(target: VideoTarget): void {
    this.target = target;
    target.setMediaState(this.mediaState);
  }

  /** The one setter: derived fields are recomputed here, and nothing is emitted if nothing changed. */
  private set(patch: Partial<MediaControlsState>): void {
    const next = { ...this.s, ...patch };
    next.canSwitchCamera = this.cameraCount > 1 && !next.cameraOff && !next.sharing && !next.audioOnly;
    next.mirrored = this.camera ? facingOf(this.camera) !== 'environment' && !next.sharing : !next.sharing;
    if ((Object.keys(next) as Array<keyof MediaControlsState>).every((k) => next[k] === this.s[k])) return;
    this.s = next;
    this.emit('change', next);
  }

  private tell(): void {
    const state = this.mediaState;
    this.target?.setMediaState(state);
    showInMediaSession(state);
  }

  private setCamera(track: MediaStreamTrack | null): void {
    // A camera that opened after hang-up (the request was pending) goes straight off: the light must go out.
    if (this.stopped) {
      track?.stop();
      return;
    }
    for (const t of this.stream.getVideoTracks()) this.stream.removeTrack(t);
    this.camera = track;
    if (track) {
      this.stream.addTrack(track);
      this.cameraId = track.getSettings().deviceId ?? this.cameraId;
    }
  }

  private async send(track: MediaStreamTrack | null): Promise<void> {
    await this.target?.replaceVideoTrack(track);
  }

  /** Runs one control action at a time, turning failures into a visible error. */
  private async exclusive(fn: () => Promise<void>): Promise<void> {
    if (this.s.busy || this.stopped) return;
    this.set({ busy: true });
    try {
      await fn();
    } catch (e) {
      if (isCallError(e)) this.emit('error', e.reason);
    } finally {
      this.set({ busy: false });
    }
  }

  toggleMute(): void {
    const muted = !this.s.muted;
    for (const t of this.stream.getAudioTracks()) t.enabled = !muted;
    this.set({ muted });
    this.tell();
  }

  toggleCamera(): Promise<void> {
    return this.exclusive(async () => {
      if (this.s.audioOnly) {
        // No camera is open in audio only: remember the choice for when video comes back.
        this.set({ cameraOff: !this.s.cameraOff });
        this.tell();
        return;
      }
      if (!this.s.cameraOff) {
        // Stop the track (camera light off) and send nothing: no frozen frame.
        this.camera?.stop();
        this.setCamera(null);
        if (!this.s.sharing) await this.send(null);
        this.set({ cameraOff: true });
      } else {
        const track = await openCamera(this.cameraId);
        this.setCamera(track);
        if (!this.s.sharing) await this.send(track);
        this.set({ cameraOff: false });
      }
      this.tell();
    });
  }

  switchCamera(): Promise<void> {
    return this.exclusive(async () => {
      const old = this.camera;
      // setCamera() moves cameraId to each candidate tried; remember ours.
      const original = this.cameraId;
      const next = await this.switcher.next(
        this.cameraId,
        () => {
          old?.stop();
          this.setCamera(null);
        },
        async (track) => {
          this.setCamera(track);
          await this.send(track);
        },
        async () => (this.target ? this.target.videoIsSending() : true),
      );
      if (!next) {
        // No other camera works: go back to the one we had.
        const back = await openCamera(original);
        this.setCamera(back);
        await this.send(back);
      }
      this.set({});
    });
  }

  toggleShare(): Promise<void> {
    return this.exclusive(async () => {
      if (this.s.audioOnly) return;
      if (this.screen) {
        await this.endShare(this.screen);
        return;
      }
      const track = await openScreen();
      if (this.stopped) {
        track.stop(); // the picker was answered after hang-up
        return;
      }
      this.screen = track;
      // The browser's own "Stop sharing" bar ends the track; so does our button (via endShare).
      track.addEventListener('ended', () => void this.endShare(track));
      await this.send(track);
      this.set({ sharing: true, selfStream: new MediaStream([track]) });
      this.tell();
    });
  }

  /**
   * Audio only: close the camera (light off, battery saved) and any screen
   * share, and send no video; the session asks the other side to stop theirs.
   * replaceTrack(null), so nothing is renegotiated. Off again: the camera
   * returns unless the person had turned it off.
   */
  toggleAudioOnly(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.s.audioOnly) {
        if (this.screen) {
          this.screen.stop();
          this.screen = null;
        }
        this.camera?.stop();
        this.setCamera(null);
        await this.send(null);
        this.set({ audioOnly: true, sharing: false, selfStream: this.stream });
      } else {
        if (!this.s.cameraOff) {
          const track = await openCamera(this.cameraId);
          this.setCamera(track);
          await this.send(track);
        }
        this.set({ audioOnly: false });
      }
      this.tell();
    });
  }

  /**
   * Another microphone (a headset's). Where the browser can't choose an
   * output (Android Chrome), the OS plays the call's sound on the headset
   * whose microphone is in use, so this also moves the sound (output.ts).
   */
  switchMicrophone(deviceId: string): Promise<void> {
    return this.exclusive(async () => {
      let track: MediaStreamTrack | undefined;
      try {
        track = (await navigator.mediaDevices.getUserMedia({ audio: { ...AUDIO_CONSTRAINTS, deviceId: { exact: deviceId } } })).getAudioTracks()[0];
      } catch (e) {
        throw mediaError(e);
      }
      if (!track) return;
      track.enabled = !this.s.muted;
      for (const old of this.stream.getAudioTracks()) {
        old.stop();
        this.stream.removeTrack(old);
      }
      this.stream.addTrack(track);
      await this.target?.replaceAudioTrack?.(track);
      this.set({});
    });
  }

  /** Data saver: the session caps our video (app/media/encodings.ts) and asks the other side to. */
  toggleDataSaver(): void {
    this.set({ dataSaver: !this.s.dataSaver });
    this.tell();
  }

  /** Back to the camera (or to nothing, if the camera is off). stop() doesn't fire `ended`, so both paths call this. */
  private async endShare(track: MediaStreamTrack): Promise<void> {
    if (this.screen !== track) return;
    this.screen = null;
    track.stop();
    this.set({ sharing: false, selfStream: this.stream });
    await this.send(this.camera);
    this.tell();
  }

  /** Phones may end the camera while the page is hidden; reopen it when we're back. */
  reacquireCamera(): Promise<void> {
    return this.exclusive(async () => {
      if (this.s.cameraOff || this.s.audioOnly || !this.camera || this.camera.readyState !== 'ended') return;
      const track = await openCamera(this.cameraId);
      this.setCamera(track);
      if (!this.s.sharing) await this.send(track);
    });
  }

  /** Hang-up: stop everything we opened (camera, microphone, screen). Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.screen?.stop();
    for (const t of this.stream.getTracks()) t.stop();
    this.removeAllListeners();
  }
}
