/**
 * Polls getStats() about once a second while connected, and computes the
 * verification code once per connection, as soon as both descriptions are
 * known (it depends only on the two DTLS fingerprints in them).
 */
import { sdpFingerprint, verificationCode } from '../../protocol/index';
import { Emitter } from '../lib/emitter';
import type { Clock } from './ports';
import { quality, sample, type Quality, type QualitySample, type StatRecord } from './stats';

export type QualityEvents = {
  quality: (q: Quality | null) => void;
  code: (code: string[] | null) => void;
};

export const QUALITY_POLL_MS = 1_000;

export class QualityMonitor extends Emitter<QualityEvents> {
  private prev: QualitySample | null = null;
  private codeFor: RTCPeerConnection | null = null;
  private timer: unknown = null;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly pc: () => RTCPeerConnection | null,
    private readonly connected: () => boolean,
  ) {
    super();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      void this.tick()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, QUALITY_POLL_MS);
  }

  private async updateCode(p: RTCPeerConnection): Promise<void> {
    if (this.codeFor === p || !p.localDescription || !p.remoteDescription) return;
    try {
      const code = await verificationCode(sdpFingerprint(p.localDescription.sdp), sdpFingerprint(p.remoteDescription.sdp));
      if (this.closed) return;
      this.emit('code', code);
      this.codeFor = p; // only once it worked: a failure is retried on the next tick
    } catch {
      this.emit('code', null);
    }
  }

  private async tick(): Promise<void> {
    const p = this.pc();
    if (p) await this.updateCode(p);
    if (!p || !this.connected()) {
      this.prev = null;
      return;
    }
    const s = sample((await p.getStats()).values() as Iterable<StatRecord>, this.clock.now());
    if (this.closed) return;
    this.emit('quality', quality(this.prev, s));
    this.prev = s;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.removeAllListeners();
  }
}
