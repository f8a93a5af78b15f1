import { describe, expect, it } from 'vitest';
import { createReconnectPolicy } from '../../app/signaling/reconnect';

describe('reconnect policy', () => {
  it('retries at once, then backs off to a 7 s cap', () => {
    const p = createReconnectPolicy(() => 0.5); // no jitter
    expect([0, 1, 2, 3, 4, 5, 10, 100].map((attempt) => p.nextDelay({ attempt }))).toEqual([0, 250, 500, 1000, 2000, 4000, 7000, 7000]);
  });
  it('jitters by ±20 % and never exceeds the cap', () => {
    const low = createReconnectPolicy(() => 0).nextDelay({ attempt: 3 });
    const high = createReconnectPolicy(() => 0.999).nextDelay({ attempt: 3 });
    expect(low).toBe(800);
    expect(high).toBeGreaterThan(1190);
    expect(createReconnectPolicy(() => 0.999).nextDelay({ attempt: 50 })).toBe(7000);
  });
});
