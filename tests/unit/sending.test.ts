/** The weak-link policy wired to its inputs (issue 14): samples from the quality monitor, news from the other side. */
import { describe, expect, it } from 'vitest';
import type { MediaState } from '../../protocol/index';
import type { Clock } from '../../app/call/ports';
import { QualityMonitor, QUALITY_POLL_MS } from '../../app/call/quality';
import { VideoSending } from '../../app/call/sending';
import type { Quality } from '../../app/call/stats';
import { PROBE_POLL_MS } from '../../app/media/degrade';

/** Timers fire only when the test moves time (one turn of the event loop after each). */
class StepClock implements Clock {
  t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    this.timers.set(++this.seq, { at: this.t + ms, fn });
    return this.seq;
  };
  clearTimeout = (h: unknown) => void this.timers.delete(h as number);
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

const q = (availableOutKbps: number): Quality => ({ rttMs: 20, lossPct: 0, outKbps: 0, path: null, bars: 4, availableOutKbps, usedMB: 0 });
const media = (weakLink?: boolean): MediaState => ({ audioMuted: false, videoOff: false, screen: false, ...(weakLink ? { weakLink } : {}) });
const log = { debug: () => undefined, warn: () => undefined };

describe('VideoSending', () => {
  it("pauses on a weak estimate, probes at once when the other side's video comes back, and resumes on a held high estimate", () => {
    let now = 0;
    const told: MediaState[] = [];
    const sending = new VideoSending(() => null, (s) => told.push(s), log, () => now);
    const events: string[] = [];
    sending.on('paused', (p) => events.push(p ? 'paused' : 'resumed'));
    sending.on('probing', (p) => events.push(p ? 'probing' : 'probe over'));
    sending.localMedia(media());
    for (; now <= 1_000; now += 1_000) sending.sample(q(80), now);
    expect(events).toEqual(['paused']);
    expect(told.at(-1)).toMatchObject({ weakLink: true }); // the other screen shows "Video paused"
    // Their video pauses too (nothing to do), then comes back: ours probes now, not at the next 3 s mark.
    now = 1_500;
    sending.remoteMedia(media(true));
    expect(events).toEqual(['paused']);
    sending.remoteMedia(media(false));
    expect(events).toEqual(['paused', 'probing']);
    // Samples every 250 ms while probing: high from 2.0 s, held for 1 s at 3.0 s.
    for (now = 1_750; now <= 3_000; now += PROBE_POLL_MS) sending.sample(q(now < 2_000 ? 90 : 600), now);
    expect(events).toEqual(['paused', 'probing', 'resumed', 'probe over']);
    expect(told.at(-1)).not.toHaveProperty('weakLink');
    sending.close();
  });

  it("news of the other side's video coming back does nothing while we send", () => {
    const sending = new VideoSending(() => null, () => undefined, log, () => 0);
    const events: boolean[] = [];
    sending.on('probing', (p) => events.push(p));
    sending.remoteMedia(media(true));
    sending.remoteMedia(media(false));
    expect(events).toEqual([]);
  });
});

describe('QualityMonitor.pollEvery', () => {
  it('samples every 250 ms while asked to, from now, and once a second again after', async () => {
    const clock = new StepClock();
    const pc = { getStats: async () => new Map() } as unknown as RTCPeerConnection;
    const monitor = new QualityMonitor(clock, () => pc, () => true);
    let samples = 0;
    monitor.on('quality', () => samples++);
    await clock.advance(QUALITY_POLL_MS * 2 + 500);
    expect(samples).toBe(2);
    monitor.pollEvery(PROBE_POLL_MS); // half-way to the next one-second sample: the fast ones start from here
    await clock.advance(1_000);
    expect(samples).toBe(6);
    monitor.pollEvery(QUALITY_POLL_MS);
    await clock.advance(2_000);
    expect(samples).toBe(8);
    monitor.close();
  });
});
