/**
 * Tandem's wire format, written from protocol/README.md alone with Node's
 * crypto (no import from protocol/ or app/: this file is the proof that the
 * page is enough). Section names in the comments are the page's.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** "Strings are UTF-8; ‖ is byte concatenation": secrets and tokens are hashed as their decoded bytes. */
export function unb64u(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (b64u(bytes) !== text) throw new TypeError(`not canonical base64url: ${text}`);
  return bytes;
}

const sha256 = (...parts: Array<string | Uint8Array>): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

// ---- Derivations ------------------------------------------------------------

export const roomIdOf = (secret: string): string => b64u(sha256('tandem/v1/room-id', unb64u(secret)).subarray(0, 16));
export const peerIdOf = (token: string): string => b64u(sha256('tandem/v1/peer-id', unb64u(token)).subarray(0, 9));
export const keyOf = (secret: string): Buffer => Buffer.from(hkdfSync('sha256', unb64u(secret), 'tandem/v1', 'signaling-key', 32));
export const newSecret = (): string => b64u(randomBytes(16));
export const newToken = (): string => b64u(randomBytes(16));

// ---- Topics -----------------------------------------------------------------

export const topicOf = (room: string, peer: string, kind: 'presence' | 'signal'): string => `tandem/v1/${room}/${peer}/${kind}`;
export const roomFiltersOf = (room: string): string[] => [`tandem/v1/${room}/+/presence`, `tandem/v1/${room}/+/signal`];

// ---- Payloads: 0x01 ‖ iv(12) ‖ ciphertext ‖ tag(16), aad = topic -----------

export function seal(key: Uint8Array, topic: string, plaintext: string, iv: Uint8Array = randomBytes(12)): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(topic, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(0x01), iv, body, cipher.getAuthTag()]);
}

/** Throws for anything that doesn't open (the page: drop it). */
export function open(key: Uint8Array, topic: string, payload: Uint8Array): string {
  if (payload.length < 1 + 12 + 16 || payload[0] !== 0x01) throw new Error('malformed payload');
  const decipher = createDecipheriv('aes-256-gcm', key, payload.subarray(1, 13));
  decipher.setAAD(Buffer.from(topic, 'utf8'));
  decipher.setAuthTag(payload.subarray(payload.length - 16));
  return Buffer.concat([decipher.update(payload.subarray(13, payload.length - 16)), decipher.final()]).toString('utf8');
}

// ---- Verification code ------------------------------------------------------

export const EMOJI = [
  ...'🐶 🐱 🦁 🐴 🦄 🐷 🐘 🐰'.split(' '),
  ...'🐼 🐓 🐧 🐢 🐟 🐙 🦋 🌷'.split(' '),
  ...'🌳 🌵 🍄 🌏 🌙 ☁️ 🔥 🍌'.split(' '),
  ...'🍎 🍓 🌽 🍕 🎂 ❤️ 😀 🤖'.split(' '),
  ...'🎩 👓 🔧 🎅 👍 ☂️ ⌛ ⏰'.split(' '),
  ...'🎁 💡 📕 ✏️ 📎 ✂️ 🔒 🔑'.split(' '),
  ...'🔨 ☎️ 🏁 🚂 🚲 ✈️ 🚀 🏆'.split(' '),
  ...'⚽ 🎸 🎺 🔔 ⚓ 🎧 📁 📌'.split(' '),
];

export const newNonce = (): string => b64u(randomBytes(32));

export const commitOf = (fingerprint: string, nonce: string): string => b64u(sha256(`tandem/v2/verify-commit|${fingerprint}|${nonce}`));

export interface Side {
  fingerprint: string;
  nonce: string;
}

export function codeOf(mine: Side, theirs: Side): string[] {
  const pairs = [`${mine.fingerprint}|${mine.nonce}`, `${theirs.fingerprint}|${theirs.nonce}`].sort();
  const d = sha256(`tandem/v2/verify-code|${pairs[0]}|${pairs[1]}`);
  const bits = (d[0]! << 16) | (d[1]! << 8) | d[2]!;
  return [18, 12, 6, 0].map((shift) => EMOJI[(bits >> shift) & 63]!);
}

/** The one sha-256 DTLS fingerprint of an SDP, upper case. */
export function fingerprintOf(sdp: string): string {
  const found = new Set([...sdp.matchAll(/^a=fingerprint:sha-256 (\S+)/gim)].map((m) => m[1]!.toUpperCase()));
  if (found.size !== 1) throw new Error(`expected one sha-256 fingerprint, found ${found.size}`);
  return [...found][0]!;
}
