/**
 * The verification code two people compare out loud. It is derived from both
 * DTLS fingerprints and from a nonce each side committed to before seeing the
 * other's, so a relay that swaps a fingerprint (a man in the middle of the
 * media) can't search for certificates that make the two screens agree.
 */
import { toBase64Url, utf8 } from './encoding';

export const VERIFICATION_EMOJI = [
  '🐶', '🐱', '🦁', '🐴', '🦄', '🐷', '🐘', '🐰', '🐼', '🐓', '🐧', '🐢', '🐟', '🐙', '🦋', '🌷',
  '🌳', '🌵', '🍄', '🌏', '🌙', '☁️', '🔥', '🍌', '🍎', '🍓', '🌽', '🍕', '🎂', '❤️', '😀', '🤖',
  '🎩', '👓', '🔧', '🎅', '👍', '☂️', '⌛', '⏰', '🎁', '💡', '📕', '✏️', '📎', '✂️', '🔒', '🔑',
  '🔨', '☎️', '🏁', '🚂', '🚲', '✈️', '🚀', '🏆', '⚽', '🎸', '🎺', '🔔', '⚓', '🎧', '📁', '📌',
] as const;

/**
 * A word for each symbol, said aloud or read where emoji don't render (as
 * Matrix's SAS does). English here; the app shows them in the person's
 * language where it has a translation.
 */
export const VERIFICATION_WORDS = [
  'dog', 'cat', 'lion', 'horse', 'unicorn', 'pig', 'elephant', 'rabbit', 'panda', 'rooster', 'penguin', 'turtle', 'fish', 'octopus', 'butterfly', 'tulip',
  'tree', 'cactus', 'mushroom', 'globe', 'moon', 'cloud', 'fire', 'banana', 'apple', 'strawberry', 'corn', 'pizza', 'cake', 'heart', 'smiley', 'robot',
  'hat', 'glasses', 'wrench', 'santa', 'thumbs up', 'umbrella', 'hourglass', 'clock', 'gift', 'light bulb', 'book', 'pencil', 'paperclip', 'scissors', 'lock', 'key',
  'hammer', 'telephone', 'flag', 'train', 'bicycle', 'aeroplane', 'rocket', 'trophy', 'ball', 'guitar', 'trumpet', 'bell', 'anchor', 'headphones', 'folder', 'pin',
] as const;

/** The word of a symbol of VERIFICATION_EMOJI ('' for anything else). */
export function verificationWord(emoji: string): string {
  const i = (VERIFICATION_EMOJI as readonly string[]).indexOf(emoji);
  return i < 0 ? '' : VERIFICATION_WORDS[i]!;
}

/** Random bytes each side commits to, then reveals. */
export const VERIFY_NONCE_BYTES = 32;
/** Symbols in the code people read aloud: 4 emoji of 6 bits = 24 bits. */
export const VERIFY_SYMBOLS = 4;

const sha256 = async (text: string): Promise<Uint8Array> =>
  new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', utf8.encode(text) as Uint8Array<ArrayBuffer>));

/**
 * The commitment a side sends before it has seen anything of the other's
 * nonce: base64url(SHA-256("tandem/v2/verify-commit|" + FP + "|" + nonce)),
 * FP its own upper-case sha-256 DTLS fingerprint, nonce base64url of 32
 * random bytes. Binding FP here means a relay must fix the certificate it
 * shows a side before that side's nonce is revealed.
 */
export async function verifyCommitment(fingerprint: string, nonce: string): Promise<string> {
  return toBase64Url(await sha256(`tandem/v2/verify-commit|${fingerprint.toUpperCase()}|${nonce}`));
}

/**
 * The code both screens show (protocol v2, commit-then-reveal, as in ZRTP's
 * hash commitment and Matrix's emoji SAS). Each side pairs a fingerprint
 * with its nonce; the pairs are sorted by fingerprint so both sides agree:
 *   SHA-256("tandem/v2/verify-code|" + FP1 + "|" + N1 + "|" + FP2 + "|" + N2)
 * The first `symbols` × 6 bits (big-endian) index VERIFICATION_EMOJI.
 * Neither side's nonce is known to anyone before both commitments are
 * fixed, so an attacker in the middle can't steer the two codes together:
 * each attempt matches with probability 2^-(6 × symbols).
 */
export async function verificationCode(mine: { fingerprint: string; nonce: string }, theirs: { fingerprint: string; nonce: string }, symbols = VERIFY_SYMBOLS): Promise<string[]> {
  const pairs = [mine, theirs].map((p) => `${p.fingerprint.toUpperCase()}|${p.nonce}`).sort();
  const digest = await sha256(`tandem/v2/verify-code|${pairs.join('|')}`);
  return codeFromBits(digest, symbols);
}

/** `symbols` 6-bit indexes from the digest's leading bits, most significant first. */
function codeFromBits(digest: Uint8Array, symbols: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols; i++) {
    const bit = i * 6;
    const byte = bit >> 3;
    const word = ((digest[byte] ?? 0) << 8) | (digest[byte + 1] ?? 0);
    out.push(VERIFICATION_EMOJI[(word >> (10 - (bit & 7))) & 63]!);
  }
  return out;
}
