/**
 * Saved contacts and ringing: the inbox contract.
 *
 * Two people who called once may save each other. During a call each side
 * sends the other, inside the call's end-to-end encrypted signaling, a fresh
 * *inbox* for that one contact: 16 random bytes (its id) and a 32-byte
 * AES-256-GCM key. Whoever holds B's inbox for A can reach B, and nobody else:
 *
 *   tandem/v1/ring/<inboxId>       not retained; every payload sealed (crypto.ts `seal`)
 *                                  with the inbox's key, aad = the topic
 *
 * The broker sees an opaque id per contact and per direction, and ciphertext.
 * It can't tell whose inbox it is, and nobody can forge or read a ring without
 * the key. Removing a contact forgets its inbox: rings to it reach no one.
 *
 * Inbox connections use clientId `inbox.<peerId>`, username `inbox`, the peer
 * token as password (the same proof as in a room), subscribe to exact inbox
 * topics only, and publish only to inbox topics.
 */
import { fromBase64Url, randomBase64Url } from './encoding';
import { isPeerId, isSecret, type PeerId, type Secret } from './ids';
import { MAX_TOPIC_CHARS, PROTOCOL_VERSION } from './limits';
import { parseVersioned, ProtocolError } from './messages';
import { TOPIC_ROOT, TOPIC_VERSION } from './topics';

export const INBOX_ID_BYTES = 16;
export const CONTACT_KEY_BYTES = 32;
/** A ring id: 9 random bytes, unique per ring; cancel/decline name it. */
export const RING_ID_BYTES = 9;
/** The callee stops ringing, and the caller says "no answer", after this long. */
export const RING_TIMEOUT_MS = 30_000;
/** A ring older than this (or this far in the future: clocks differ) is a replay and is dropped. */
export const RING_MAX_AGE_MS = 60_000;
/** Largest sealed inbox payload the broker relays (bytes). A push subscription fits with room to spare. */
export const MAX_INBOX_PAYLOAD_BYTES = 2048;
/** Most inboxes one connection may listen on: one per saved contact. */
export const MAX_INBOXES_PER_CONNECTION = 256;
/**
 * Inbox filters per SUBSCRIBE packet. The broker refuses a SUBSCRIBE longer
 * than a room member's (two filters, broker/connections.ts), so a phone with
 * many contacts subscribes in packets of this many.
 */
export const INBOX_FILTERS_PER_SUBSCRIBE = 6;
/** A name someone gives themselves, sent to the other phone as a suggestion. */
export const MAX_NAME_CHARS = 64;
/**
 * Where the page keeps contacts (IndexedDB, one record per contact keyed by
 * our inbox id for them), so its service worker can open a push. Not the
 * wire format: the one contract between the page and its service worker.
 */
export const CONTACTS_DB = 'tandem-contacts';
export const CONTACTS_STORE = 'contacts';
/** The MQTT username of an inbox connection. */
export const INBOX_USERNAME = 'inbox';
const INBOX_CLIENT_PREFIX = 'inbox.';

export type InboxId = string & { readonly __brand: 'InboxId' };
export type RingId = string & { readonly __brand: 'RingId' };

const B64URL = /^[A-Za-z0-9_-]+$/;
const isB64 = (s: unknown, bytes: number): s is string =>
  typeof s === 'string' && s.length === Math.ceil((bytes * 4) / 3) && B64URL.test(s) && fromBase64Url(s)?.length === bytes;

export const isInboxId = (s: unknown): s is InboxId => isB64(s, INBOX_ID_BYTES);
export const isContactKey = (s: unknown): s is string => isB64(s, CONTACT_KEY_BYTES);
export const isRingId = (s: unknown): s is RingId => isB64(s, RING_ID_BYTES);
export const newInboxId = (): InboxId => randomBase64Url(INBOX_ID_BYTES) as InboxId;
export const newContactKey = (): string => randomBase64Url(CONTACT_KEY_BYTES);
export const newRingId = (): RingId => randomBase64Url(RING_ID_BYTES) as RingId;

export function inboxTopic(inbox: InboxId): string {
  return `${TOPIC_ROOT}/${TOPIC_VERSION}/ring/${inbox}`;
}

/** The inbox id of a concrete inbox topic (also the only filter an inbox connection may subscribe to); null otherwise. */
export function parseInboxTopic(topic: string): InboxId | null {
  if (topic.length > MAX_TOPIC_CHARS) return null;
  const parts = topic.split('/');
  if (parts.length !== 4) return null;
  const [root, version, ring, inbox] = parts;
  if (root !== TOPIC_ROOT || version !== TOPIC_VERSION || ring !== 'ring' || !isInboxId(inbox)) return null;
  return inbox;
}

export function inboxClientId(peer: PeerId): string {
  return `${INBOX_CLIENT_PREFIX}${peer}`;
}

export function parseInboxClientId(clientId: unknown): PeerId | null {
  if (typeof clientId !== 'string' || !clientId.startsWith(INBOX_CLIENT_PREFIX)) return null;
  const peer = clientId.slice(INBOX_CLIENT_PREFIX.length);
  return isPeerId(peer) ? peer : null;
}

/** The AES-256-GCM key of an inbox, from its 32 bytes in base64url. */
export async function importContactKey(key: string): Promise<CryptoKey> {
  const bytes = fromBase64Url(key);
  if (!bytes || bytes.length !== CONTACT_KEY_BYTES) throw new TypeError('not a contact key');
  return globalThis.crypto.subtle.importKey('raw', new Uint8Array(bytes), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** A Web Push subscription as `PushSubscription.toJSON()` gives it; it travels only inside sealed messages. */
export interface PushTarget {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export type InboxMessage =
  /** Ring: "join the call behind this link". `at` is the caller's clock (ms since the epoch). */
  | { v: typeof PROTOCOL_VERSION; type: 'ring'; id: RingId; at: number; secret: Secret }
  /** The caller stopped ringing; `missed` when nobody answered in time. */
  | { v: typeof PROTOCOL_VERSION; type: 'cancel'; id: RingId; missed: boolean }
  /** The callee said no; `busy` when its app was already in a call. */
  | { v: typeof PROTOCOL_VERSION; type: 'decline'; id: RingId; busy: boolean }
  /**
   * "I saved you": the contact is usable once both sides said it. `ack` marks
   * an answer to the other's `saved`, which is not answered again. `push` is
   * where to wake this phone when its app is closed.
   */
  | { v: typeof PROTOCOL_VERSION; type: 'saved'; ack: boolean; name: string; push: PushTarget | null };

export type InboxType = InboxMessage['type'];
type InboxOf<T extends InboxType> = Extract<InboxMessage, { type: T }>;
type Obj = Record<string, unknown>;

function shape(ok: boolean, what: string): asserts ok {
  if (!ok) throw new ProtocolError('shape', what);
}
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

function parsePush(x: unknown): PushTarget | null {
  if (x === null) return null;
  shape(isObj(x) && typeof x.endpoint === 'string' && x.endpoint.length <= 1024 && /^https?:\/\//.test(x.endpoint), 'push.endpoint');
  const keys = x.keys;
  shape(isObj(keys) && typeof keys.p256dh === 'string' && keys.p256dh.length <= 128 && typeof keys.auth === 'string' && keys.auth.length <= 64, 'push.keys');
  return { endpoint: x.endpoint as string, keys: { p256dh: keys.p256dh as string, auth: keys.auth as string } };
}

const INBOX_PARSERS: { [K in InboxType]: (x: Obj) => InboxOf<K> } = {
  ring: (x) => {
    shape(isRingId(x.id) && Number.isSafeInteger(x.at) && isSecret(x.secret), 'ring');
    return { v: PROTOCOL_VERSION, type: 'ring', id: x.id as RingId, at: x.at as number, secret: x.secret as Secret };
  },
  cancel: (x) => {
    shape(isRingId(x.id) && typeof x.missed === 'boolean', 'cancel');
    return { v: PROTOCOL_VERSION, type: 'cancel', id: x.id as RingId, missed: x.missed as boolean };
  },
  decline: (x) => {
    shape(isRingId(x.id) && typeof x.busy === 'boolean', 'decline');
    return { v: PROTOCOL_VERSION, type: 'decline', id: x.id as RingId, busy: x.busy as boolean };
  },
  saved: (x) => {
    shape(typeof x.ack === 'boolean' && typeof x.name === 'string' && x.name.length <= MAX_NAME_CHARS, 'saved');
    return { v: PROTOCOL_VERSION, type: 'saved', ack: x.ack as boolean, name: x.name as string, push: parsePush(x.push ?? null) };
  },
};

/** Parses a decrypted inbox payload; throws ProtocolError for anything else. */
export function parseInboxMessage(json: string): InboxMessage {
  const x = parseVersioned(json);
  const type = x.type;
  shape(typeof type === 'string' && Object.hasOwn(INBOX_PARSERS, type), 'type');
  return INBOX_PARSERS[type as InboxType](x);
}

/** Whether a ring sent at `at` (caller's clock) may still be shown at `now` (ours). */
export function ringIsFresh(at: number, now: number): boolean {
  return Math.abs(now - at) <= RING_MAX_AGE_MS;
}

/**
 * A Web Push payload: the recipient's inbox id (so its service worker can find
 * the key) and the sealed inbox message, as the server relays it untouched.
 */
export interface PushEnvelope {
  i: InboxId;
  m: string;
}

export function parsePushEnvelope(text: string): PushEnvelope | null {
  try {
    const x: unknown = JSON.parse(text);
    if (!isObj(x) || !isInboxId(x.i) || typeof x.m !== 'string' || x.m.length > 4096 || !fromBase64Url(x.m)) return null;
    return { i: x.i, m: x.m };
  } catch {
    return null;
  }
}
