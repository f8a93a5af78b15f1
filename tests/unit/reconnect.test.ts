import { describe, expect, it } from 'vitest';
import { createReconnectPolicy, defaultProbePolicy } from '../../app/signaling/reconnect';

const at = (attempt: number, elapsedMs = 0) => ({ attempt, elapsedMs });

describe('reconnect policy', () => {
  it('retries at once, then backs off to a 1.8 s cap', () => {
    const top = createReconnectPolicy({ random: () => 1 }); // the top of each jittered step
    expect([0, 1, 2, 3, 4, 5, 10, 100].map((n) => top.nextDelay(at(n)))).toEqual([0, 250, 500, 1000, 1800, 1800, 1800, 1800]);
  });

  it('jitters within the upper half of each step, so a restarted server sees clients spread out', () => {
    const low = createReconnectPolicy({ random: () => 0 });
    expect(low.nextDelay(at(3))).toBe(500);
    expect(low.nextDelay(at(50))).toBe(900);
    const delays = new Set(Array.from({ length: 50 }, () => createReconnectPolicy().nextDelay(at(20))));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(900), expect(d).toBeLessThanOrEqual(1800);
  });

  it('is never more than 2 s away from the server, however long the outage (up to the give-up point)', () => {
    // Simulate a 60 s outage: attempts run back to back; the server returns at T.
    for (const T of [10_000, 60_000]) {
      const p = createReconnectPolicy();
      let t = 0;
      let n = 0;
      while (t < T) t += p.nextDelay(at(n++, t))!;
      const lastBefore = t - p.nextDelay(at(n - 1, t))!;
      expect(t - T).toBeLessThanOrEqual(2_000);
      expect(t - lastBefore).toBeLessThanOrEqual(1_800);
    }
  });

  it('gives up after the configured time (null), so the person is told instead of waiting forever', () => {
    const p = createReconnectPolicy({ giveUpAfterMs: 60_000 });
    expect(p.nextDelay(at(30, 59_999))).not.toBeNull();
    expect(p.nextDelay(at(31, 60_000))).toBeNull();
  });

  it('probes for the network at 1 s, 2 s, then every 3 s', () => {
    expect([0, 1, 2, 3, 40].map((n) => defaultProbePolicy.nextDelay(at(n)))).toEqual([1000, 2000, 3000, 3000, 3000]);
  });
});
