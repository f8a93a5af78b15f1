/**
 * What our video sender does, from three inputs: our own controls (data
 * saver, screen or camera), what the other side asked for (audio only, data
 * saver), and the weak-link policy fed by the quality monitor's samples.
 * Applied with setParameters on the live RTCPeerConnection, never by
 * renegotiating (issue 14). The controller wires it; the rules are pure
 * functions in app/media/encodings.ts and app/media/degrade.ts.
 */
import type { MediaState } from '../../protocol/index';
import { Emitter } from '../lib/emitter';
import { encoderOn, initialWeakLink, probeNow, probing, videoPaused, weakLinkStep, type WeakLinkOptions, WEAK_LINK, type WeakLinkState } from '../media/degrade';
import { videoSendParams, withAudioParams, withVideoParams } from '../media/encodings';
import type { Logger } from './negotiator';
import type { Quality } from './stats';
import { videoSender } from './tracks';

export type VideoSendingEvents = {
  /** Our video is paused (or being probed) because the link is too weak: the screen says so. */
  paused: (paused: boolean) => void;
  /** The weak-link policy is probing (its samples are wanted more often: degrade.ts PROBE_POLL_MS). */
  probing: (probing: boolean) => void;
};

export class VideoSending extends Emitter<VideoSendingEvents> {
  private local: MediaState = { audioMuted: false, videoOff: false, screen: false };
  private remote: MediaState | null = null;
  private weak: WeakLinkState = initialWeakLink();
  private lastKbps: number | null = null;
  private running: Promise<void> = Promise.resolve();
  private queued = false;
  private closed = false;

  constructor(
    private readonly pc: () => RTCPeerConnection | null,
    /** Sends our media state to the other side (the session). */
    private readonly tell: (state: MediaState) => void,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly options: WeakLinkOptions = WEAK_LINK,
  ) {
    super();
  }

  /** Our controls' state (what the controls tell the other side goes through here, weakLink added). */
  localMedia(state: MediaState): void {
    if (this.closed) return;
    this.local = state;
    this.tellRemote();
    this.apply();
  }

  remoteMedia(state: MediaState | null): void {
    if (this.closed) return;
    const recovered = this.remote?.weakLink === true && state !== null && !state.weakLink;
    this.remote = state;
    if (recovered) this.move(probeNow(this.weak, this.now(), this.lastKbps), this.lastKbps, 'their video is back');
    this.apply();
  }

  /** One quality sample (about a second apart): the weak-link policy's input. */
  sample(q: Quality | null, at: number): void {
    if (this.closed || !q) return;
    const wantVideo = !this.local.videoOff && !this.local.audioOnly && this.remote?.audioOnly !== true;
    this.lastKbps = q.availableOutKbps;
    this.move(weakLinkStep(this.weak, { at, availableKbps: q.availableOutKbps, wantVideo }, this.options), q.availableOutKbps);
  }

  private move(next: WeakLinkState, kbps: number | null, why?: string): void {
    if (next === this.weak) return;
    const was = this.weak;
    this.weak = next;
    if (was.phase !== next.phase) this.log.debug(`weak link ${was.phase} -> ${next.phase}`, why ? { kbps, why } : { kbps });
    if (videoPaused(was) !== videoPaused(next)) {
      this.emit('paused', videoPaused(next));
      this.tellRemote();
    }
    if (probing(was) !== probing(next)) this.emit('probing', probing(next));
    if (was.phase !== next.phase) this.apply();
  }

  get paused(): boolean {
    return videoPaused(this.weak);
  }

  private tellRemote(): void {
    this.tell(videoPaused(this.weak) ? { ...this.local, weakLink: true } : this.local);
  }

  /** A new connection or a new track: set everything again. Calls are coalesced and run one at a time. */
  apply(): void {
    if (this.closed || this.queued) return;
    this.queued = true;
    this.running = this.running.then(async () => {
      this.queued = false;
      const pc = this.pc();
      if (!pc || pc.connectionState === 'closed') return;
      try {
        await this.applyTo(pc);
      } catch (e) {
        // An older browser without some field: the call goes on with its defaults.
        this.log.warn('sender parameters refused', { error: String(e) });
      }
    });
  }

  private async applyTo(pc: RTCPeerConnection): Promise<void> {
    const video = videoSender(pc);
    if (video?.getParameters) {
      const p = videoSendParams({
        audioOnly: this.remote?.audioOnly === true,
        dataSaver: this.local.dataSaver === true || this.remote?.dataSaver === true,
        weakLinkPaused: !encoderOn(this.weak),
        probing: probing(this.weak),
        screen: this.local.screen,
        height: video.track?.getSettings().height ?? null,
      });
      const next = withVideoParams(video.getParameters(), p);
      if (next) await video.setParameters(next);
    }
    const audio = pc.getSenders().find((s) => s.track?.kind === 'audio');
    if (audio?.getParameters) {
      const next = withAudioParams(audio.getParameters(), videoPaused(this.weak));
      if (next) await audio.setParameters(next);
    }
  }

  close(): void {
    this.closed = true;
    this.removeAllListeners();
  }
}
