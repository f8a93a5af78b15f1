/**
 * The verification code two people compare out loud. It is derived from both
 * DTLS fingerprints, so a relay that swaps a fingerprint (a man in the middle
 * of the media) makes the two screens show different codes.
 *
 *   code = first 4 × 6 bits of SHA-256(sorted(fpA, fpB).join("|")) → 4 emoji from a fixed list of 64
 */
import { utf8 } from './encoding';

export const VERIFICATION_EMOJI = [
  '🐶', '🐱', '🦁', '🐴', '🦄', '🐷', '🐘', '🐰', '🐼', '🐓', '🐧', '🐢', '🐟', '🐙', '🦋', '🌷',
  '🌳', '🌵', '🍄', '🌏', '🌙', '☁️', '🔥', '🍌', '🍎', '🍓', '🌽', '🍕', '🎂', '❤️', '😀', '🤖',
  '🎩', '👓', '🔧', '🎅', '👍', '☂️', '⌛', '⏰', '🎁', '💡', '📕', '✏️', '📎', '✂️', '🔒', '🔑',
  '🔨', '☎️', '🏁', '🚂', '🚲', '✈️', '🚀', '🏆', '⚽', '🎸', '🎺', '🔔', '⚓', '🎧', '📁', '📌',
] as const;

export async function verificationCode(fingerprintA: string, fingerprintB: string): Promise<string[]> {
  const input = [fingerprintA.toUpperCase(), fingerprintB.toUpperCase()].sort().join('|');
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', utf8.encode(input) as Uint8Array<ArrayBuffer>));
  // 24 bits → four 6-bit indexes.
  const n = (digest[0]! << 16) | (digest[1]! << 8) | digest[2]!;
  return [18, 12, 6, 0].map((shift) => VERIFICATION_EMOJI[(n >> shift) & 63]!);
}
