/**
 * Syntax check of a POST /api/push body (push.ts), before anything is
 * authorized or sent: every field is checked for type, alphabet and size, and
 * the subscription's public key for being a point on P-256, so that nothing a
 * caller sends can make the encryption throw later. Error strings go back to
 * the caller as `{ error }`; they never quote what was sent.
 */
import { ECDH } from 'node:crypto';

export interface PushRequest {
  endpoint: string;
  /** Canonical unpadded base64url. */
  p256dh: string;
  auth: string;
  payload: Buffer;
  /** Seconds, 0..MAX_PUSH_TTL. */
  ttl: number;
  topic: string | null;
}

/** Longer than any real endpoint (WNS's are the longest, around 500 characters). */
export const MAX_ENDPOINT_CHARS = 2048;
/**
 * Well under the 4096-byte record push services accept (RFC 8291 §4: that
 * leaves 3993 bytes of plaintext), so the app's sealing overhead always fits.
 */
export const MAX_PUSH_PAYLOAD_BYTES = 3072;
/** A ring is useless after a minute: the caller has given up by then. */
export const MAX_PUSH_TTL = 60;
export const DEFAULT_PUSH_TTL = 30;

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
/** RFC 8030 §5.4: at most 32 characters of the URL- and filename-safe base64 alphabet. */
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

export type ParseResult = { ok: true; value: PushRequest } | { ok: false; error: string };

export function parsePushRequest(body: Buffer): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return fail('body is not JSON');
  }
  if (!isObject(json)) return fail('body must be a JSON object');
  const { subscription, payload, ttl, topic } = json;
  if (!isObject(subscription)) return fail('subscription must be an object');
  const { endpoint, keys } = subscription;
  if (typeof endpoint !== 'string' || endpoint === '') return fail('subscription.endpoint must be a URL string');
  if (endpoint.length > MAX_ENDPOINT_CHARS) return fail(`subscription.endpoint is longer than ${MAX_ENDPOINT_CHARS} characters`);
  if (!isObject(keys)) return fail('subscription.keys must be an object');

  const p256dh = base64url(keys.p256dh);
  if (p256dh === null || p256dh.length !== 65 || !onP256(p256dh)) {
    return fail('subscription.keys.p256dh must be a P-256 public key (65 bytes, base64url)');
  }
  const auth = base64url(keys.auth);
  // RFC 8291 §3.2: the authentication secret is 16 octets.
  if (auth === null || auth.length !== 16) return fail('subscription.keys.auth must be 16 bytes, base64url');

  const bytes = base64url(payload);
  if (bytes === null || bytes.length === 0 || bytes.length > MAX_PUSH_PAYLOAD_BYTES) {
    return fail(`payload must be 1..${MAX_PUSH_PAYLOAD_BYTES} bytes, base64url`);
  }
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl))) return fail('ttl must be a number of seconds');
  if (topic !== undefined && (typeof topic !== 'string' || !TOPIC.test(topic))) {
    return fail('topic must be 1..32 characters of base64url (A-Z a-z 0-9 - _)');
  }
  return {
    ok: true,
    value: {
      endpoint,
      p256dh: p256dh.toString('base64url'),
      auth: auth.toString('base64url'),
      payload: bytes,
      ttl: ttl === undefined ? DEFAULT_PUSH_TTL : Math.min(MAX_PUSH_TTL, Math.max(0, Math.floor(ttl))),
      topic: topic ?? null,
    },
  };
}

function fail(error: string): ParseResult {
  return { ok: false, error };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The decoded bytes of a base64url string (padding tolerated), or null for anything else. */
function base64url(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !BASE64URL.test(value)) return null;
  const bare = value.replace(/=+$/, '');
  // A lone sixth bit-group can't be whole bytes: Buffer would silently drop it.
  if (bare.length % 4 === 1) return null;
  return Buffer.from(bare, 'base64url');
}

/** True for an uncompressed point on P-256; ECDH with anything else throws inside web-push. */
function onP256(key: Buffer): boolean {
  if (key[0] !== 0x04) return false;
  try {
    ECDH.convertKey(key, 'prime256v1');
    return true;
  } catch {
    return false;
  }
}
