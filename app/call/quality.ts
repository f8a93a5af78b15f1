/** Polls getStats() about once a second while connected (path, round trip, loss, bitrate). */
import { Emitter } from '../lib/emitter';
import type { Clock } from './ports';
import { addUsage, quality, sample, type Quality, type QualitySample, type StatRecord, type Usage } from './stats';

export type QualityEvents = {
  quality: (q: Quality | null) => void;
};

export const QUALITY_POLL_MS = 1_000;

export class QualityMonitor extends Emitter<QualityEvents> {
  private prev: QualitySample | null = null;
  private usage: Usage = { conn: null, bytes: 0, total: 0 };
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

  private async tick(): Promise<void> {
    const p = this.pc();
    if (!p || !this.connected()) {
      this.prev = null;
      return;
    }
    const s = sample((await p.getStats()).values() as Iterable<StatRecord>, this.clock.now());
    if (this.closed) return;
    this.usage = addUsage(this.usage, p, s.dataBytes);
    this.emit('quality', quality(this.prev, s, this.usage.total));
    this.prev = s;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.removeAllListeners();
  }
}
