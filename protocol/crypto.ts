/**
 * End-to-end protection of signaling payloads. Only the call link holds the
 * secret; the broker sees the room id (a one-way hash) and ciphertext.
 *
 *   roomId = base64url(SHA-256("tandem/v1/room-id" ‖ secret)[0..16])
 *   peerId = base64url(SHA-256("tandem/v1/peer-id" ‖ token)[0..9]), token = the MQTT password
 *   key    = HKDF-SHA-256(ikm = secret, salt = "tandem/v1", info = "signaling-key") → AES-256-GCM
 *   wire   = 0x01 ‖ iv(12 random bytes) ‖ AES-GCM(key, iv, aad = topic, plaintext = JSON)
 *
 * The topic is the AES-GCM additional data, so a ciphertext moved to another
 * topic (another peer's, or presence → signal) fails to open.
 */
import { fromBase64Url, toBase64Url, utf8 } from './encoding';
import type { PeerId, PeerToken, RoomId, Secret } from './ids';
import { PEER_ID_BYTES, ROOM_ID_BYTES } from './ids';

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;
const WIRE_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function secretBytes(secret: Secret): Uint8Array {
  const bytes = fromBase64Url(secret);
  if (!bytes) throw new TypeError('invalid call secret');
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function deriveRoomId(secret: Secret): Promise<RoomId> {
  const digest = await subtle().digest('SHA-256', concat(utf8.encode('tandem/v1/room-id'), secretBytes(secret)));
  return toBase64Url(new Uint8Array(digest).slice(0, ROOM_ID_BYTES)) as RoomId;
}

/** Domain separation for `peerIdOf`; exported so a synchronous implementation (node:crypto) can match it. */
export const PEER_ID_LABEL = 'tandem/v1/peer-id';

/**
 * A peer id is a hash of the peer's token, and the token is its MQTT password:
 * the broker recomputes the id from the password at CONNECT, so knowing a
 * peer id (every member of the room sees it in topics) is not enough to
 * connect as that peer and take over its place.
 */
export async function peerIdOf(token: PeerToken): Promise<PeerId> {
  const bytes = fromBase64Url(token);
  if (!bytes) throw new TypeError('not a peer token');
  const digest = await subtle().digest('SHA-256', concat(utf8.encode(PEER_ID_LABEL), bytes));
  return toBase64Url(new Uint8Array(digest).slice(0, PEER_ID_BYTES)) as PeerId;
}

export async function deriveKey(secret: Secret): Promise<CryptoKey> {
  const ikm = await subtle().importKey('raw', concat(secretBytes(secret)), 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: concat(utf8.encode('tandem/v1')), info: concat(utf8.encode('signaling-key')) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export async function seal(key: CryptoKey, topic: string, plaintext: string): Promise<Uint8Array> {
  const iv = new Uint8Array(IV_BYTES);
  globalThis.crypto.getRandomValues(iv);
  const data = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: concat(utf8.encode(topic)) },
    key,
    concat(utf8.encode(plaintext)),
  );
  return concat(Uint8Array.of(WIRE_VERSION), iv, new Uint8Array(data));
}

/** Opens a sealed payload. Throws `DecryptError` for anything that is not ours. */
export async function open(key: CryptoKey, topic: string, payload: Uint8Array): Promise<string> {
  if (payload.length < 1 + IV_BYTES + TAG_BYTES || payload[0] !== WIRE_VERSION) {
    throw new DecryptError('malformed');
  }
  let plain: ArrayBuffer;
  try {
    plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: concat(payload.subarray(1, 1 + IV_BYTES)), additionalData: concat(utf8.encode(topic)) },
      key,
      concat(payload.subarray(1 + IV_BYTES)),
    );
  } catch {
    throw new DecryptError('authentication');
  }
  try {
    return utf8.decode(new Uint8Array(plain));
  } catch {
    throw new DecryptError('malformed');
  }
}

export class DecryptError extends Error {
  constructor(readonly reason: 'malformed' | 'authentication') {
    super(`signaling payload rejected: ${reason}`);
    this.name = 'DecryptError';
  }
}
