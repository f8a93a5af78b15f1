/** broker/admission.ts on its own: who is woken, and the bounds on what waiting can hold. */
import { describe, expect, it, vi } from 'vitest';
import { AdmissionWaits } from '../../broker/admission';

const never = () => undefined;

describe('AdmissionWaits', () => {
  it('wakes every wait for the admitted client, and only those', async () => {
    const waits = new AdmissionWaits({ timeoutMs: 60_000, perAddress: 10, total: 10 });
    const a1 = waits.wait('room.a', '192.0.2.1', never);
    const a2 = waits.wait('room.a', '192.0.2.2', never);
    const b = waits.wait('room.b', '192.0.2.1', never);
    expect(waits.size).toBe(3);
    waits.admitted('room.a');
    await expect(Promise.all([a1, a2])).resolves.toEqual([true, true]);
    expect(waits.size).toBe(1);
    waits.admitted('room.b');
    await expect(b).resolves.toBe(true);
    expect(waits.size).toBe(0);
  });

  it('gives up after the timeout, or when the request goes away', async () => {
    vi.useFakeTimers();
    try {
      const waits = new AdmissionWaits({ timeoutMs: 5_000, perAddress: 10, total: 10 });
      const timedOut = waits.wait('room.a', '192.0.2.1', never);
      let leave = () => {};
      const left = waits.wait('room.b', '192.0.2.1', (gone) => (leave = gone));
      leave();
      await expect(left).resolves.toBe(false);
      await vi.advanceTimersByTimeAsync(4_999);
      expect(waits.size).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      await expect(timedOut).resolves.toBe(false);
      expect(waits.size).toBe(0);
      // A late admission finds nobody waiting.
      waits.admitted('room.a');
    } finally {
      vi.useRealTimers();
    }
  });

  it('holds at most `perAddress` waits per address and `total` in all; beyond them the answer is at once', async () => {
    const waits = new AdmissionWaits({ timeoutMs: 60_000, perAddress: 2, total: 3 });
    const held = [waits.wait('r.1', 'A', never), waits.wait('r.2', 'A', never)];
    await expect(waits.wait('r.3', 'A', never)).resolves.toBe(false);
    held.push(waits.wait('r.4', 'B', never));
    await expect(waits.wait('r.5', 'C', never)).resolves.toBe(false);
    expect(waits.size).toBe(3);
    for (const id of ['r.1', 'r.2', 'r.4']) waits.admitted(id);
    await expect(Promise.all(held)).resolves.toEqual([true, true, true]);
    // Freed: the address may wait again.
    const again = waits.wait('r.3', 'A', never);
    waits.admitted('r.3');
    await expect(again).resolves.toBe(true);
  });
});
