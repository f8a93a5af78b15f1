/**
 * The call's life as a pure function: (context, event) → (context, effects).
 * No timers, no RTCPeerConnection, no DOM: the session runs the effects, and
 * tests drive this with plain objects.
 */
import type { CallErrorReason } from './errors';

export type CallState = 'idle' | 'waiting' | 'connecting' | 'connected' | 'reconnecting' | 'ended' | 'full' | 'error';

export type TimerName = 'connect-timeout' | 'disconnect-grace' | 'restart-timeout';

export interface CallTimings {
  /**
   * No media path this long after the other person arrived → error (a bad TURN
   * credential leaves ICE in `new` forever). Halfway through, one rebuild.
   */
  connectTimeoutMs: number;
  /** ICE `disconnected` this long → restart ICE (it often heals by itself within a second or two). */
  disconnectGraceMs: number;
  /** One ICE restart gets this long before the next attempt. */
  restartTimeoutMs: number;
  /** After this long without media, build a fresh RTCPeerConnection instead of restarting ICE. */
  rebuildAfterMs: number;
  /** After this long without media, give up and tell the person. */
  giveUpAfterMs: number;
}

export const DEFAULT_TIMINGS: CallTimings = {
  connectTimeoutMs: 20_000,
  disconnectGraceMs: 2_000,
  restartTimeoutMs: 15_000,
  rebuildAfterMs: 60_000,
  giveUpAfterMs: 120_000,
};

export interface CallContext {
  state: CallState;
  /** The other person hung up or vanished and we are waiting again. */
  remoteLeft: boolean;
  error: CallErrorReason | null;
  /** When the media path was lost (clock ms), for the rebuild/give-up rule. */
  lostAt: number | null;
  /** A stuck first connection gets one fresh RTCPeerConnection before we give up. */
  rebuiltWhileConnecting: boolean;
  /** ICE restarts since the media path was lost. */
  restarts: number;
  /** The fixed rule that picks one side to start ICE restarts (the impolite peer). */
  restarter: boolean;
}

export const initialContext = (): CallContext => ({
  state: 'idle',
  remoteLeft: false,
  error: null,
  lostAt: null,
  restarts: 0,
  restarter: false,
  rebuiltWhileConnecting: false,
});

export type PeerConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export type CallEvent =
  | { type: 'joined' }
  | { type: 'full' }
  | { type: 'remote-arrived'; restarter: boolean }
  | { type: 'remote-left' }
  | { type: 'peer-connection'; state: PeerConnectionState }
  | { type: 'network-change' }
  /** Connected, yet no RTP arrives (quality.ts STALL_MS); `again`: an ICE restart already didn't help. */
  | { type: 'media-stalled'; again: boolean }
  | { type: 'timer'; name: TimerName }
  | { type: 'hangup' }
  | { type: 'error'; reason: CallErrorReason };

export type Effect =
  | { type: 'set-timer'; name: TimerName; ms: number }
  | { type: 'clear-timer'; name: TimerName }
  | { type: 'restart-ice' }
  | { type: 'rebuild-connection' }
  | { type: 'wait-again' }
  | { type: 'leave' };

export interface Transition {
  context: CallContext;
  effects: Effect[];
}

const ALL_TIMERS: TimerName[] = ['connect-timeout', 'disconnect-grace', 'restart-timeout'];
const clearAll = (): Effect[] => ALL_TIMERS.map((name) => ({ type: 'clear-timer', name }));
const inCall = (s: CallState) => s === 'connecting' || s === 'connected' || s === 'reconnecting';
const finished = (s: CallState) => s === 'ended' || s === 'full' || s === 'error';

/** Restart backoff after the first attempt: 15 s, 30 s, 60 s... */
function restartDelay(t: CallTimings, restarts: number): number {
  return t.restartTimeoutMs * 2 ** Math.max(0, restarts - 1);
}

function recover(ctx: CallContext, t: CallTimings, now: number): Transition {
  const lostAt = ctx.lostAt ?? now;
  const lostFor = now - lostAt;
  if (lostFor >= t.giveUpAfterMs) {
    return { context: { ...ctx, state: 'error', error: 'connection-lost' }, effects: clearAll() };
  }
  const restarts = ctx.restarts + 1;
  const next: CallContext = { ...ctx, state: 'reconnecting', lostAt, restarts };
  // Wake up no later than the next milestone (rebuild at 60 s, give up at 2 min).
  const milestone = lostFor < t.rebuildAfterMs ? t.rebuildAfterMs : t.giveUpAfterMs;
  const ms = Math.min(restartDelay(t, restarts), Math.max(1, milestone - lostFor));
  const act: Effect[] = lostFor >= t.rebuildAfterMs ? [{ type: 'rebuild-connection' }] : ctx.restarter ? [{ type: 'restart-ice' }] : [];
  return { context: next, effects: [{ type: 'clear-timer', name: 'disconnect-grace' }, ...act, { type: 'set-timer', name: 'restart-timeout', ms }] };
}

export function transition(ctx: CallContext, event: CallEvent, now: number, t: CallTimings = DEFAULT_TIMINGS): Transition {
  const stay: Transition = { context: ctx, effects: [] };
  if (finished(ctx.state)) return stay;
  switch (event.type) {
    case 'joined':
      return ctx.state === 'idle' ? { context: { ...ctx, state: 'waiting' }, effects: [] } : stay;
    case 'full':
      return { context: { ...ctx, state: 'full' }, effects: clearAll() };
    case 'remote-arrived':
      if (ctx.state === 'idle') return stay;
      return {
        context: { ...ctx, state: 'connecting', restarter: event.restarter, lostAt: null, restarts: 0, rebuiltWhileConnecting: false },
        effects: [...clearAll(), { type: 'set-timer', name: 'connect-timeout', ms: t.connectTimeoutMs / 2 }],
      };
    case 'remote-left':
      if (!inCall(ctx.state)) return stay;
      return { context: { ...ctx, state: 'waiting', remoteLeft: true, lostAt: null, restarts: 0 }, effects: [...clearAll(), { type: 'wait-again' }] };
    case 'peer-connection':
      return onPeerConnection(ctx, event.state, now, t);
    case 'network-change':
      // The side whose network changed knows first; waiting for ICE's own timers
      // costs 5-15 s. Only this side notices, so either side may restart here
      // (perfect negotiation absorbs a collision). While media still flows the
      // state stays `connected`: the restart swaps the path under a live call,
      // and if the old path is dead ICE says so and we go `reconnecting` then.
      if (ctx.state === 'connected') return { context: ctx, effects: [{ type: 'restart-ice' }] };
      if (ctx.state !== 'reconnecting') return stay;
      return { context: { ...ctx, lostAt: ctx.lostAt ?? now }, effects: [{ type: 'restart-ice' }, { type: 'set-timer', name: 'restart-timeout', ms: t.restartTimeoutMs }] };
    case 'media-stalled':
      // Seen between Firefox and Chromium after an ICE restart: one direction dead, ICE still `connected`.
      if (ctx.state !== 'connected') return stay;
      return { context: ctx, effects: [{ type: event.again ? 'rebuild-connection' : 'restart-ice' }] };
    case 'timer':
      return onTimer(ctx, event.name, now, t);
    case 'hangup':
      return { context: { ...ctx, state: 'ended' }, effects: [...clearAll(), { type: 'leave' }] };
    case 'error':
      return { context: { ...ctx, state: 'error', error: event.reason }, effects: clearAll() };
    default: {
      const never: never = event;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
}

function onPeerConnection(ctx: CallContext, pc: PeerConnectionState, now: number, t: CallTimings): Transition {
  if (!inCall(ctx.state)) return { context: ctx, effects: [] };
  switch (pc) {
    case 'connected':
      return { context: { ...ctx, state: 'connected', lostAt: null, restarts: 0, remoteLeft: false }, effects: clearAll() };
    case 'disconnected':
      if (ctx.state === 'connecting') return { context: ctx, effects: [] };
      return {
        context: { ...ctx, state: 'reconnecting', lostAt: ctx.lostAt ?? now },
        effects: ctx.state === 'connected' ? [{ type: 'set-timer', name: 'disconnect-grace', ms: t.disconnectGraceMs }] : [],
      };
    case 'failed':
      if (ctx.state === 'connecting') return { context: { ...ctx, lostAt: now }, effects: [{ type: 'rebuild-connection' }] };
      return recover(ctx, t, now);
    case 'new':
    case 'connecting':
    case 'closed':
      return { context: ctx, effects: [] };
    default: {
      const never: never = pc;
      throw new Error(`unhandled peer connection state ${String(never)}`);
    }
  }
}

function onTimer(ctx: CallContext, name: TimerName, now: number, t: CallTimings): Transition {
  switch (name) {
    case 'connect-timeout':
      if (ctx.state !== 'connecting') return { context: ctx, effects: [] };
      // Halfway: a negotiation that lost a message gets a fresh connection; at the end, a clear error.
      if (!ctx.rebuiltWhileConnecting) {
        return {
          context: { ...ctx, rebuiltWhileConnecting: true },
          effects: [{ type: 'rebuild-connection' }, { type: 'set-timer', name: 'connect-timeout', ms: t.connectTimeoutMs / 2 }],
        };
      }
      return { context: { ...ctx, state: 'error', error: 'connect-timeout' }, effects: clearAll() };
    case 'disconnect-grace':
    case 'restart-timeout':
      if (ctx.state !== 'reconnecting') return { context: ctx, effects: [] };
      return recover(ctx, t, now);
    default: {
      const never: never = name;
      throw new Error(`unhandled timer ${String(never)}`);
    }
  }
}
