/**
 * What the call setup benchmark (bench/call.ts) makes of one run's timelines:
 * when each step of the setup was reached, the work each page did, and for
 * ours the MQTT traffic and the answer's way from B to A; then the medians.
 */
import type { TimelineEvent } from './browser';
import type { Measured, Variant } from './call-variants';
import { VARIANTS } from './call-variants';
import { percentile, sortedCopy } from './report';

/** Milliseconds from t0. Null where a variant has no such step or it was not seen. */
export interface Phases {
  /** The joiner's RTCPeerConnection exists (a page's first one takes ~15–25 ms to construct; PeerJS builds a test one when it loads). */
  joinerPc: number | null;
  /** PeerJS only: the joiner (caller in PeerJS terms) has its offer. */
  offerReady: number | null;
  /** PeerJS only: the offer reached the other side (setRemoteDescription called). */
  offerDelivered: number | null;
  /** The answering side has its answer (setLocalDescription resolved). */
  answerReady: number | null;
  /** The answer reached the offering side (setRemoteDescription called). */
  answerDelivered: number | null;
  /** ICE connected on both sides. */
  iceConnected: number | null;
  /** ICE + DTLS connected on both sides (connectionState). */
  connected: number | null;
  /**
   * --media-trace only (getStats every 20 ms): A's video on its way to B
   * (encoded and sent by A, received and decoded by B), and B's to A.
   */
  toJoinerEncoded: number | null;
  toJoinerSent: number | null;
  toJoinerReceived: number | null;
  toJoinerDecoded: number | null;
  toCallerEncoded: number | null;
  toCallerSent: number | null;
  toCallerReceived: number | null;
  toCallerDecoded: number | null;
  /** The first remote frame's packets had arrived on both sides (requestVideoFrameCallback receiveTime). */
  frameReceived: number | null;
  /** First remote frame presented at A (B's video), at B (A's video), and on both. */
  callerFrame: number | null;
  joinerFrame: number | null;
  firstFrame: number | null;
}

/** Ours only: the MQTT traffic between t0 and the later first frame. */
export interface Signaling {
  /** PUBLISH packets each side sent. */
  joinerPublishes: number;
  callerPublishes: number;
  /** PUBLISH packets each side received. */
  joinerReceived: number;
  callerReceived: number;
  /** PUBLISH packets the joiner received (and had to open) before its answer went out. */
  joinerReceivedBeforeAnswer: number;
  /** The answer: setLocalDescription resolved → its frame handed to the WebSocket (JSON, AES-GCM seal, mqtt.js) (ms). */
  answerSealMs: number | null;
  /** The answer's frame out of B → its frame into A: two WebSocket hops and the broker (ms). */
  answerBrokerMs: number | null;
  /** The answer's frame into A → A's setRemoteDescription: AES-GCM open, validation, dispatch (ms). */
  answerOpenMs: number | null;
}

/** Work each page did between t0 and the later first frame (every variant). */
export interface Work {
  /** addIceCandidate calls: remote candidates each side was given. */
  joinerAddCandidates: number;
  callerAddCandidates: number;
  /** Main-thread long tasks (> 50 ms), summed (loopback: the one page, counted for both). */
  joinerLongTaskMs: number;
  callerLongTaskMs: number;
}

export interface RunResult {
  variant: Variant;
  run: number;
  ok: boolean;
  error?: string;
  /** max(callerMs, joinerMs) */
  setupMs: number;
  /** First remote frame at the side that was waiting (A). */
  callerMs: number;
  /** First remote frame at the side that joined (B). */
  joinerMs: number;
  /** Ours: Playwright's click call to the click event in the page (harness cost, not counted). */
  clickOverheadMs?: number;
  phases?: Phases;
  work?: Work;
  signaling?: Signaling;
  /** Ours: the joiner's call screen data-state values from Join to its first frame, and scripts its page loaded in that time. */
  joinerStates?: string;
  joinerScripts?: string[];
}

export interface VariantSummary {
  variant: Variant;
  name: string;
  runs: number;
  failed: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  callerP50: number;
  joinerP50: number;
  /** Median of each phase over the successful runs. */
  phases: Record<keyof Phases, number | null>;
  /** Median of each work count over the successful runs. */
  work: Record<keyof Work, number | null>;
}

function at(events: TimelineEvent[], t0: number, match: (e: TimelineEvent) => boolean): number | null {
  const e = events.find((x) => x.t >= t0 && match(x));
  return e ? e.t - t0 : null;
}

const both = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.max(a, b));

export function phasesOf(m: Measured): Phases {
  const offerer = m.offerer === 'caller' ? m.caller : m.joiner;
  const answerer = m.offerer === 'caller' ? m.joiner : m.caller;
  const sdp = (events: TimelineEvent[], ev: string, type: string, phase: 'start' | 'done') => at(events, m.t0, (e) => e.ev === ev && e.type === type && e.phase === phase);
  const ice = (events: TimelineEvent[]) => at(events, m.t0, (e) => e.ev === 'ice' && (e.s === 'connected' || e.s === 'completed'));
  const conn = (events: TimelineEvent[]) => at(events, m.t0, (e) => e.ev === 'conn' && e.s === 'connected');
  const media = (events: TimelineEvent[], what: string) => at(events, m.t0, (e) => e.ev === 'media' && e.what === what);
  const peerjs = m.offerer === 'joiner';
  return {
    joinerPc: at(m.joiner, m.t0, (e) => e.ev === 'pc'),
    offerReady: peerjs ? sdp(offerer, 'setLocalDescription', 'offer', 'done') : null,
    offerDelivered: peerjs ? sdp(answerer, 'setRemoteDescription', 'offer', 'start') : null,
    answerReady: sdp(answerer, 'setLocalDescription', 'answer', 'done'),
    answerDelivered: sdp(offerer, 'setRemoteDescription', 'answer', 'start'),
    iceConnected: both(ice(m.caller), ice(m.joiner)),
    connected: both(conn(m.caller), conn(m.joiner)),
    toJoinerEncoded: media(m.caller, 'encoded'),
    toJoinerSent: media(m.caller, 'sent'),
    toJoinerReceived: media(m.joiner, 'received'),
    toJoinerDecoded: media(m.joiner, 'decoded'),
    toCallerEncoded: media(m.joiner, 'encoded'),
    toCallerSent: media(m.joiner, 'sent'),
    toCallerReceived: media(m.caller, 'received'),
    toCallerDecoded: media(m.caller, 'decoded'),
    frameReceived: both(m.callerReceived === null ? null : m.callerReceived - m.t0, m.joinerReceived === null ? null : m.joinerReceived - m.t0),
    callerFrame: m.callerFrame - m.t0,
    joinerFrame: m.joinerFrame - m.t0,
    firstFrame: Math.max(m.callerFrame, m.joinerFrame) - m.t0,
  };
}

export function workOf(m: Measured): Work {
  const end = Math.max(m.callerFrame, m.joinerFrame);
  const inWindow = (e: TimelineEvent) => e.t >= m.t0 && e.t <= end;
  const adds = (events: TimelineEvent[]) => events.filter((e) => inWindow(e) && e.ev === 'addIceCandidate' && e.phase === 'start').length;
  const longTasks = (events: TimelineEvent[]) => events.filter((e) => inWindow(e) && e.ev === 'longtask').reduce((n, e) => n + (e.ms ?? 0), 0);
  return { joinerAddCandidates: adds(m.joiner), callerAddCandidates: adds(m.caller), joinerLongTaskMs: longTasks(m.joiner), callerLongTaskMs: longTasks(m.caller) };
}

/** Ours: MQTT packets seen in both pages between t0 and the later first frame, and the answer's path. */
export function signalingOf(m: Measured, phases: Phases): Signaling {
  const end = Math.max(m.callerFrame, m.joinerFrame);
  const frames = (events: TimelineEvent[], ev: string) => events.filter((e) => e.ev === ev && e.packets && e.t >= m.t0 && e.t <= end);
  const publishes = (fs: TimelineEvent[]) => fs.flatMap((f) => f.packets!.filter((p) => p[0] === 3).map((p) => ({ t: f.t, bytes: p[1] })));
  const joinerOut = publishes(frames(m.joiner, 'ws-out'));
  const joinerIn = publishes(frames(m.joiner, 'ws-in'));
  const callerIn = publishes(frames(m.caller, 'ws-in'));
  // The answer is by far the largest PUBLISH the joiner sends (a whole SDP, sealed); the broker forwards it unchanged (QoS 1 both ways: same size).
  const answerOut = joinerOut.reduce<{ t: number; bytes: number } | null>((big, p) => (p.bytes > (big?.bytes ?? 2000) ? p : big), null);
  const answerIn = answerOut ? callerIn.find((p) => p.t >= answerOut.t && p.bytes === answerOut.bytes) ?? null : null;
  const rel = (p: { t: number } | null) => (p ? p.t - m.t0 : null);
  const diff = (later: number | null, earlier: number | null) => (later === null || earlier === null ? null : later - earlier);
  return {
    joinerPublishes: joinerOut.length,
    callerPublishes: publishes(frames(m.caller, 'ws-out')).length,
    joinerReceived: joinerIn.length,
    callerReceived: callerIn.length,
    joinerReceivedBeforeAnswer: answerOut ? joinerIn.filter((p) => p.t < answerOut.t).length : 0,
    answerSealMs: diff(rel(answerOut), phases.answerReady),
    answerBrokerMs: answerOut && answerIn ? answerIn.t - answerOut.t : null,
    answerOpenMs: diff(phases.answerDelivered, rel(answerIn)),
  };
}

export function median(values: (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null);
  return xs.length === 0 ? null : percentile(sortedCopy(xs), 50);
}

const WORK_KEYS = ['joinerAddCandidates', 'callerAddCandidates', 'joinerLongTaskMs', 'callerLongTaskMs'] as const;

export function summarize(variant: Variant, runs: RunResult[]): VariantSummary {
  const ok = runs.filter((r) => r.ok);
  const setup = sortedCopy(ok.map((r) => r.setupMs));
  const phaseKeys = ['joinerPc', 'offerReady', 'offerDelivered', 'answerReady', 'answerDelivered', 'iceConnected', 'connected', 'toJoinerEncoded', 'toJoinerSent', 'toJoinerReceived', 'toJoinerDecoded', 'toCallerEncoded', 'toCallerSent', 'toCallerReceived', 'toCallerDecoded', 'frameReceived', 'callerFrame', 'joinerFrame', 'firstFrame'] as const;
  return {
    variant,
    name: VARIANTS[variant],
    runs: ok.length,
    failed: runs.length - ok.length,
    p50: percentile(setup, 50),
    p95: percentile(setup, 95),
    min: setup[0] ?? Number.NaN,
    max: setup[setup.length - 1] ?? Number.NaN,
    callerP50: percentile(sortedCopy(ok.map((r) => r.callerMs)), 50),
    joinerP50: percentile(sortedCopy(ok.map((r) => r.joinerMs)), 50),
    phases: Object.fromEntries(phaseKeys.map((k) => [k, median(ok.map((r) => r.phases?.[k] ?? null))])) as VariantSummary['phases'],
    work: Object.fromEntries(WORK_KEYS.map((k) => [k, median(ok.map((r) => r.work?.[k] ?? null))])) as VariantSummary['work'],
  };
}
