import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS, initialContext, transition, type CallContext, type CallEvent, type Effect } from '../../app/call/machine';

/** Runs events through the machine with a fake clock and a fake timer queue. */
function drive(events: Array<CallEvent | { advance: number }>, start: CallContext = initialContext()) {
  let ctx = start;
  let now = 0;
  const timers = new Map<string, number>();
  const effects: Effect[] = [];
  const apply = (e: CallEvent) => {
    const t = transition(ctx, e, now);
    ctx = t.context;
    for (const eff of t.effects) {
      effects.push(eff);
      if (eff.type === 'set-timer') timers.set(eff.name, now + eff.ms);
      if (eff.type === 'clear-timer') timers.delete(eff.name);
    }
  };
  for (const e of events) {
    if ('advance' in e) {
      const until = now + e.advance;
      for (;;) {
        const due = [...timers.entries()].filter(([, at]) => at <= until).sort((a, b) => a[1] - b[1])[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1];
        apply({ type: 'timer', name: due[0] as never });
      }
      now = until;
    } else apply(e);
  }
  return { ctx, effects, timers };
}

const inCall: Array<CallEvent> = [{ type: 'joined' }, { type: 'remote-arrived', restarter: true }, { type: 'peer-connection', state: 'connected' }];

describe('call state machine', () => {
  it('joins, waits, connects', () => {
    expect(drive([{ type: 'joined' }]).ctx.state).toBe('waiting');
    expect(drive([{ type: 'joined' }, { type: 'remote-arrived', restarter: false }]).ctx.state).toBe('connecting');
    expect(drive(inCall).ctx.state).toBe('connected');
  });

  it('a full room is final', () => {
    const { ctx } = drive([{ type: 'full' }, { type: 'joined' }, { type: 'remote-arrived', restarter: true }]);
    expect(ctx.state).toBe('full');
  });

  it('rebuilds once halfway, then gives a clear error when no media path appears within the connect timeout', () => {
    const { ctx, effects } = drive([{ type: 'joined' }, { type: 'remote-arrived', restarter: true }, { advance: DEFAULT_TIMINGS.connectTimeoutMs - 1 }]);
    expect(ctx.state).toBe('connecting');
    expect(effects.filter((e) => e.type === 'rebuild-connection')).toHaveLength(1);
    const after = drive([{ type: 'joined' }, { type: 'remote-arrived', restarter: true }, { advance: DEFAULT_TIMINGS.connectTimeoutMs }]);
    expect(after.ctx).toMatchObject({ state: 'error', error: 'connect-timeout' });
  });

  it('connected but receiving nothing: an ICE restart, then a fresh connection; never while not connected', () => {
    const first = drive([...inCall, { type: 'media-stalled', again: false }]);
    expect(first.ctx.state).toBe('connected');
    expect(first.effects.at(-1)).toEqual({ type: 'restart-ice' });
    const again = drive([...inCall, { type: 'media-stalled', again: false }, { type: 'media-stalled', again: true }]);
    expect(again.effects.at(-1)).toEqual({ type: 'rebuild-connection' });
    const waiting = drive([{ type: 'joined' }, { type: 'media-stalled', again: true }]);
    expect(waiting.effects).toEqual([]);
  });

  it('the other person leaving means waiting again with a fresh offer', () => {
    const { ctx, effects } = drive([...inCall, { type: 'remote-left' }]);
    expect(ctx).toMatchObject({ state: 'waiting', remoteLeft: true });
    expect(effects).toContainEqual({ type: 'wait-again' });
  });

  it('hang-up leaves', () => {
    const { ctx, effects } = drive([...inCall, { type: 'hangup' }]);
    expect(ctx.state).toBe('ended');
    expect(effects.at(-1)).toEqual({ type: 'leave' });
  });

  it('restarts ICE after 2 s of disconnected, only on the restarter side', () => {
    const blip = drive([...inCall, { type: 'peer-connection', state: 'disconnected' }, { advance: 1_999 }]);
    expect(blip.ctx.state).toBe('reconnecting');
    expect(blip.effects).not.toContainEqual({ type: 'restart-ice' });
    const restarter = drive([...inCall, { type: 'peer-connection', state: 'disconnected' }, { advance: 2_000 }]);
    expect(restarter.effects).toContainEqual({ type: 'restart-ice' });
    const other = drive([{ type: 'joined' }, { type: 'remote-arrived', restarter: false }, { type: 'peer-connection', state: 'connected' }, { type: 'peer-connection', state: 'disconnected' }, { advance: 2_000 }]);
    expect(other.effects).not.toContainEqual({ type: 'restart-ice' });
    expect(other.ctx.state).toBe('reconnecting');
  });

  it('recovers to connected and forgets the loss', () => {
    const { ctx } = drive([...inCall, { type: 'peer-connection', state: 'failed' }, { type: 'peer-connection', state: 'connected' }]);
    expect(ctx).toMatchObject({ state: 'connected', lostAt: null, restarts: 0 });
  });

  it('retries with backoff, rebuilds after 60 s and gives up after 2 min', () => {
    const lost = [...inCall, { type: 'peer-connection', state: 'failed' } as CallEvent];
    const at30 = drive([...lost, { advance: 30_000 }]);
    expect(at30.effects.filter((e) => e.type === 'restart-ice')).toHaveLength(2); // t=0, t=15 s
    expect(at30.effects).not.toContainEqual({ type: 'rebuild-connection' });
    const at90 = drive([...lost, { advance: 90_000 }]);
    expect(at90.effects).toContainEqual({ type: 'rebuild-connection' });
    expect(at90.ctx.state).toBe('reconnecting');
    const at121 = drive([...lost, { advance: 121_000 }]);
    expect(at121.ctx).toMatchObject({ state: 'error', error: 'connection-lost' });
  });

  it('a network change restarts ICE at once, without claiming a live call is lost', () => {
    const { ctx, effects } = drive([...inCall, { type: 'network-change' }]);
    expect(ctx.state).toBe('connected');
    expect(effects).toContainEqual({ type: 'restart-ice' });
    // Nothing is left to time out: a healthy call stays as it was.
    const later = drive([...inCall, { type: 'network-change' }, { advance: DEFAULT_TIMINGS.rebuildAfterMs + 1 }]);
    expect(later.ctx.state).toBe('connected');
    expect(later.effects).not.toContainEqual({ type: 'rebuild-connection' });
  });

  it('a network change while reconnecting restarts ICE now instead of at the next timer, on either side', () => {
    const lost = [{ type: 'joined' }, { type: 'remote-arrived', restarter: false }, { type: 'peer-connection', state: 'connected' }, { type: 'peer-connection', state: 'failed' }] as CallEvent[];
    const { ctx, effects } = drive([...lost, { advance: 1_000 }, { type: 'network-change' }]);
    expect(ctx).toMatchObject({ state: 'reconnecting', lostAt: 0 });
    expect(effects.filter((e) => e.type === 'restart-ice')).toHaveLength(1);
  });
});
