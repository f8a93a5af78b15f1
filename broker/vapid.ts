/**
 * The VAPID key pair (RFC 8292) that signs every push this server relays.
 *
 * Browsers bind a push subscription to the public key the app subscribed
 * with (`applicationServerKey`), so the pair must stay the same across
 * restarts and be shared by every process of a cluster: from
 * VAPID_PUBLIC_KEY/VAPID_PRIVATE_KEY, or else from `<DATA_DIR>/vapid.json`,
 * which the first start creates (mode 0600) so that `npm start` needs no
 * setup. New keys orphan every existing subscription (README, "Web Push relay").
 */
import { createECDH } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';

export interface VapidKeys {
  /** base64url of the uncompressed P-256 point (65 bytes): what the app passes to pushManager.subscribe(). */
  publicKey: string;
  /** base64url of the 32-byte private scalar. Never sent, never logged. */
  privateKey: string;
}

const FILE_NAME = 'vapid.json';

/** A problem with a key, in words for a ConfigError; null when it is a usable base64url P-256 key of the right length. */
export function vapidKeyProblem(kind: 'public' | 'private', value: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return 'expected unpadded base64url (web-push generate-vapid-keys prints one)';
  const bytes = Buffer.from(value, 'base64url').length;
  const want = kind === 'public' ? 65 : 32;
  return bytes === want ? null : `expected ${want} bytes once decoded, got ${bytes}`;
}

/** Null when `privateKey` is the private half of `publicKey`; else what is wrong, in words (never quoting a key). */
export function vapidPairProblem(keys: VapidKeys): string | null {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(keys.privateKey, 'base64url'));
    if (ecdh.getPublicKey().equals(Buffer.from(keys.publicKey, 'base64url'))) return null;
  } catch {
    return 'the private key is not a P-256 key';
  }
  // Pushes signed with it would all be refused (403) by the push services.
  return 'the public and private keys are not one pair';
}

/** A key file that can't be read, written or used; config.ts turns it into a ConfigError naming DATA_DIR. */
export class VapidFileError extends Error {
  override name = 'VapidFileError';
}

/**
 * The pair in `<dir>/vapid.json`, generated into it first if there is none.
 * Synchronous, at start only.
 */
export function loadOrCreateVapidKeys(dir: string): { keys: VapidKeys; generated: boolean; file: string } {
  const file = join(dir, FILE_NAME);
  const existing = readKeys(file);
  if (existing !== null) return { keys: existing, generated: false, file };
  return { keys: createKeys(dir, file), generated: true, file };
}

/** The pair in `file`, or null when there is no file yet. */
function readKeys(file: string): VapidKeys | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new VapidFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VapidFileError(`${file} is not JSON; delete it to make a new key pair (every device then re-subscribes)`);
  }
  const { publicKey, privateKey } = (parsed ?? {}) as Partial<Record<keyof VapidKeys, unknown>>;
  if (typeof publicKey !== 'string' || typeof privateKey !== 'string') {
    throw new VapidFileError(`${file} has no publicKey/privateKey strings`);
  }
  // Never quote the values: this message is printed.
  const problem = vapidKeyProblem('public', publicKey) ?? vapidKeyProblem('private', privateKey) ?? vapidPairProblem({ publicKey, privateKey });
  if (problem !== null) throw new VapidFileError(`${file} holds a bad key: ${problem}`);
  return { publicKey, privateKey };
}

function createKeys(dir: string, file: string): VapidKeys {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // 'wx': never overwrite. Two processes starting at once on a fresh shared
    // DATA_DIR: the loser reads the winner's pair instead of replacing it.
    writeFileSync(file, `${JSON.stringify({ publicKey, privateKey }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    // The mode above is filtered by the umask; the private key is for this user only.
    chmodSync(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const existing = readKeys(file);
      if (existing !== null) return existing;
    }
    throw new VapidFileError(
      `cannot write ${file} (${(err as Error).message}): make DATA_DIR writable, or set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY`,
    );
  }
  return { publicKey, privateKey };
}
