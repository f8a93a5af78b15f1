/**
 * Signaling messages, as JSON before encryption. A union on `type`; every
 * message names its sender's peer id, page session and connection generation,
 * so a receiver can drop anything stale (see README "Staleness").
 */
import { fromBase64Url } from './encoding';
import { isPeerId, type PeerId } from './ids';
import { MAX_CANDIDATE_CHARS, MAX_SDP_CANDIDATES, MAX_SDP_CHARS, PROTOCOL_VERSION } from './limits';
import type { TopicKind } from './topics';

export interface Envelope {
  v: typeof PROTOCOL_VERSION;
  from: PeerId;
  /** Random per page load of the sender. */
  session: string;
  /** Counts the sender's RTCPeerConnections within one session. */
  gen: number;
}

/** Addresses one connection of the other peer. */
export interface Target {
  session: string;
  gen: number;
}

export interface WireDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface WireCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
  usernameFragment: string | null;
}

export interface MediaState {
  audioMuted: boolean;
  videoOff: boolean;
  screen: boolean;
  /**
   * Optional (issue 14), so peers that predate them still parse the message
   * and the protocol version stays the same. An old peer ignores them: it
   * keeps sending video to an audio-only peer, which costs data but breaks nothing.
   */
  /** "Audio only": we send no video, and ask the other side to send none either. */
  audioOnly?: boolean;
  /** "Data saver": we cap our video, and ask the other side to cap theirs the same way. */
  dataSaver?: boolean;
  /** Our video is paused because the link can't carry it (it resumes by itself). */
  weakLink?: boolean;
}

/** The optional flags of MediaState, in wire order. */
export const MEDIA_FLAGS = ['audioOnly', 'dataSaver', 'weakLink'] as const;

export type SignalMessage =
  | (Envelope & { type: 'presence'; offer: WireDescription | null })
  | (Envelope & { type: 'description'; to: Target; description: WireDescription })
  | (Envelope & { type: 'candidate'; to: Target; candidate: WireCandidate })
  | (Envelope & { type: 'media'; to: Target; state: MediaState })
  | (Envelope & { type: 'bye'; to: Target | null })
  /** Verification, step 1: a commitment to our fingerprint and a nonce (verification.ts). */
  | (Envelope & { type: 'verify-commit'; to: Target; commit: string })
  /** Verification, step 2: the nonce, sent only after the other side's commitment arrived. */
  | (Envelope & { type: 'verify-reveal'; to: Target; nonce: string })
  /**
   * A fresh inbox for this one peer (ring.ts): its id and key, so either side
   * can save the other as a contact, during the call or after it.
   */
  | (Envelope & { type: 'contact'; to: Target; inbox: string; key: string });

export type SignalType = SignalMessage['type'];

export type MessageOf<T extends SignalType> = Extract<SignalMessage, { type: T }>;

/** Which topic each message type travels on. */
export function topicKindOf(type: SignalType): TopicKind {
  switch (type) {
    case 'presence':
      return 'presence';
    case 'description':
    case 'candidate':
    case 'media':
    case 'bye':
    case 'verify-commit':
    case 'verify-reveal':
    case 'contact':
      return 'signal';
    default: {
      const never: never = type;
      throw new Error(`unknown message type ${String(never)}`);
    }
  }
}

export type ProtocolErrorReason = 'json' | 'shape' | 'version' | 'sdp-size' | 'sdp-candidates' | 'fingerprint' | 'topic';

export class ProtocolError extends Error {
  constructor(
    readonly reason: ProtocolErrorReason,
    readonly detail: string,
  ) {
    super(`invalid signaling message (${reason}): ${detail}`);
    this.name = 'ProtocolError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isShortString = (x: unknown, max = 64): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;
const isGen = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function shape(ok: boolean, what: string): asserts ok {
  if (!ok) throw new ProtocolError('shape', what);
}

/**
 * Returns the one sha-256 DTLS fingerprint of an SDP. Browsers repeat it per
 * m-section; all copies must agree, and no other hash may appear, so a
 * verification code computed from it covers the whole session.
 */
export function sdpFingerprint(sdp: string): string {
  const found = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith('a=fingerprint:')) continue;
    const m = /^a=fingerprint:(\S+) ((?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})\s*$/.exec(line);
    if (!m || m[1]!.toLowerCase() !== 'sha-256') throw new ProtocolError('fingerprint', 'only sha-256 fingerprints are accepted');
    found.add(m[2]!.toUpperCase());
  }
  if (found.size !== 1) throw new ProtocolError('fingerprint', `expected one sha-256 fingerprint, found ${found.size}`);
  return [...found][0]!;
}

function parseDescription(x: unknown): WireDescription {
  shape(isObj(x), 'description');
  shape(x.type === 'offer' || x.type === 'answer', 'description.type');
  shape(typeof x.sdp === 'string', 'description.sdp');
  const sdp = x.sdp as string;
  if (sdp.length > MAX_SDP_CHARS) throw new ProtocolError('sdp-size', `${sdp.length} > ${MAX_SDP_CHARS}`);
  const candidates = sdp.split('\n').filter((l) => l.startsWith('a=candidate:')).length;
  if (candidates > MAX_SDP_CANDIDATES) throw new ProtocolError('sdp-candidates', `${candidates} > ${MAX_SDP_CANDIDATES}`);
  sdpFingerprint(sdp);
  return { type: x.type, sdp };
}

function parseCandidate(x: unknown): WireCandidate {
  shape(isObj(x), 'candidate');
  shape(typeof x.candidate === 'string' && x.candidate.length <= MAX_CANDIDATE_CHARS, 'candidate.candidate');
  shape(x.sdpMid === null || isShortString(x.sdpMid, 32), 'candidate.sdpMid');
  shape(x.sdpMLineIndex === null || (Number.isInteger(x.sdpMLineIndex) && (x.sdpMLineIndex as number) >= 0 && (x.sdpMLineIndex as number) < 64), 'candidate.sdpMLineIndex');
  shape(x.usernameFragment === null || isShortString(x.usernameFragment, 256), 'candidate.usernameFragment');
  return {
    candidate: x.candidate as string,
    sdpMid: x.sdpMid as string | null,
    sdpMLineIndex: x.sdpMLineIndex as number | null,
    usernameFragment: x.usernameFragment as string | null,
  };
}

function parseTarget(x: unknown): Target {
  shape(isObj(x) && isShortString(x.session) && isGen(x.gen), 'to');
  return { session: x.session as string, gen: x.gen as number };
}

/** `bytes` bytes in base64url: a SHA-256 digest, a verification nonce (32), an inbox id (16), a contact key (32). */
function parseDigest(x: unknown, what: string, bytes = 32): string {
  shape(typeof x === 'string' && x.length === Math.ceil((bytes * 4) / 3) && fromBase64Url(x)?.length === bytes, what);
  return x as string;
}

function parseMediaState(x: unknown): MediaState {
  shape(isObj(x), 'state');
  shape(typeof x.audioMuted === 'boolean' && typeof x.videoOff === 'boolean' && typeof x.screen === 'boolean', 'state fields');
  const state: MediaState = { audioMuted: x.audioMuted as boolean, videoOff: x.videoOff as boolean, screen: x.screen as boolean };
  for (const flag of MEDIA_FLAGS) {
    if (x[flag] === undefined) continue;
    shape(typeof x[flag] === 'boolean', `state.${flag}`);
    if (x[flag]) state[flag] = true;
  }
  return state;
}

/** JSON text → an object of this protocol version (signal and inbox messages alike); throws ProtocolError. */
export function parseVersioned(json: string): Obj {
  let x: unknown;
  try {
    x = JSON.parse(json);
  } catch {
    throw new ProtocolError('json', 'not JSON');
  }
  shape(isObj(x), 'message');
  if (x.v !== PROTOCOL_VERSION) throw new ProtocolError('version', String(x.v));
  return x;
}

/**
 * Parses and validates a decrypted message that arrived on a topic of `kind`.
 * Throws ProtocolError; never returns a half-checked message.
 */
export function parseMessage(json: string, kind: TopicKind): SignalMessage {
  const x = parseVersioned(json);
  shape(isPeerId(x.from), 'from');
  shape(isShortString(x.session), 'session');
  shape(isGen(x.gen), 'gen');
  const env: Envelope = { v: PROTOCOL_VERSION, from: x.from, session: x.session as string, gen: x.gen as number };
  const type = x.type;
  shape(typeof type === 'string' && Object.hasOwn(BODY_PARSERS, type), 'type');
  const t = type as SignalType;
  if (topicKindOf(t) !== kind) throw new ProtocolError('topic', `${t} on ${kind}`);
  return BODY_PARSERS[t](x, env);
}

/**
 * One parser per message type. A type added to the union without its parser
 * here fails to compile (the mapped type demands every key), and the list of
 * known types is this table's keys, so the two can't drift apart.
 */
const BODY_PARSERS: { [K in SignalType]: (x: Obj, env: Envelope) => MessageOf<K> } = {
  presence: (x, env) => ({ ...env, type: 'presence', offer: x.offer === null ? null : parseDescription(x.offer) }),
  description: (x, env) => ({ ...env, type: 'description', to: parseTarget(x.to), description: parseDescription(x.description) }),
  candidate: (x, env) => ({ ...env, type: 'candidate', to: parseTarget(x.to), candidate: parseCandidate(x.candidate) }),
  media: (x, env) => ({ ...env, type: 'media', to: parseTarget(x.to), state: parseMediaState(x.state) }),
  bye: (x, env) => ({ ...env, type: 'bye', to: x.to === null ? null : parseTarget(x.to) }),
  'verify-commit': (x, env) => ({ ...env, type: 'verify-commit', to: parseTarget(x.to), commit: parseDigest(x.commit, 'commit') }),
  'verify-reveal': (x, env) => ({ ...env, type: 'verify-reveal', to: parseTarget(x.to), nonce: parseDigest(x.nonce, 'nonce') }),
  contact: (x, env) => ({ ...env, type: 'contact', to: parseTarget(x.to), inbox: parseDigest(x.inbox, 'inbox', 16), key: parseDigest(x.key, 'key') }),
};

export const SIGNAL_TYPES = Object.keys(BODY_PARSERS) as readonly SignalType[];
