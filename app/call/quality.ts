/** Polls getStats() about once a second while connected (path, round trip, loss, bitrate). */
import { Emitter } from '../lib/emitter';
import type { Clock } from './ports';
import { addUsage, quality, sample, type Quality, type QualitySample, type StatRecord, type Usage } from './stats';

export type QualityEvents = {
  quality: (q: Quality | null) => void;
  /** Connected, yet no RTP has arrived for STALL_MS: the path is dead one way, and ICE hasn't noticed. */
  stalled: (times: number) => void;
};

export const QUALITY_POLL_MS = 1_000;
/**
 * A live call always receives RTP: audio flows even muted (silence frames) or
 * with DTX (a comfort-noise frame at least every 400 ms), and with video
 * paused. Seen in Firefox after an ICE restart: one direction dead while ICE
 * stays `connected` on the other (tests/e2e/firefox.spec.ts).
 */
export const STALL_MS = 4_000;

/** When the inbound packet count last grew, for one connection. */
export interface RxWatch {
  conn: unknown;
  packets: number;
  since: number;
  /** Stalls reported since the last packet. */
  stalls: number;
}

/** One sample in; `stalled` is true once per STALL_MS without a new packet (again after each further STALL_MS); `watch.stalls` counts them. */
export function rxStep(w: RxWatch | null, conn: unknown, packets: number, at: number): { watch: RxWatch; stalled: boolean } {
  // Nothing received yet on this connection: media may simply not have started (or stats don't say).
  if (!w || w.conn !== conn || packets > w.packets || packets === 0) return { watch: { conn, packets, since: at, stalls: 0 }, stalled: false };
  if (at - w.since < STALL_MS) return { watch: w, stalled: false };
  // Report, then start counting again: a restart that didn't help is followed by another.
  return { watch: { conn, packets, since: at, stalls: w.stalls + 1 }, stalled: true };
}

export class QualityMonitor extends Emitter<QualityEvents> {
  private prev: QualitySample | null = null;
  private rx: RxWatch | null = null;
  private usage: Usage = { conn: null, bytes: 0, total: 0 };
  private timer: unknown = null;
  private every = QUALITY_POLL_MS;
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
      this.timer = null;
      void this.tick()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.every);
  }

  /** Poll this often from the next sample on (the weak-link policy wants samples faster while it probes). */
  pollEvery(ms: number): void {
    if (ms === this.every || this.closed) return;
    const faster = ms < this.every;
    this.every = ms;
    // Waiting for the next sample (not taking one): a faster poll starts counting now.
    if (faster && this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.schedule();
    }
  }

  private async tick(): Promise<void> {
    const p = this.pc();
    if (!p || !this.connected()) {
      this.prev = null;
      this.rx = null;
      return;
    }
    const s = sample((await p.getStats()).values() as Iterable<StatRecord>, this.clock.now());
    if (this.closed) return;
    this.usage = addUsage(this.usage, p, s.dataBytes);
    this.emit('quality', quality(this.prev, s, this.usage.total));
    this.prev = s;
    const rx = rxStep(this.rx, p, s.packetsReceived, s.at);
    this.rx = rx.watch;
    if (rx.stalled) this.emit('stalled', rx.watch.stalls);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.removeAllListeners();
  }
}
