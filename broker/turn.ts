/**
 * TURN credentials for coturn's "TURN REST API" mode (`use-auth-secret`):
 * the server and coturn share one secret; nothing is stored per user.
 *
 *   username   = "<expiry unix seconds>:<random id>"
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * coturn recomputes the HMAC from its `static-auth-secret` and refuses the
 * username once its expiry has passed (draft-uberti-behave-turn-rest-00 §2.2).
 * An allocation that already exists keeps working after that, so the TTL only
 * bounds how long a leaked credential can open *new* relays.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Long enough for a slow call setup plus an ICE restart or two, short enough
 * to bound a leak and the per-address budget's window (issue 11). The app
 * fetches a fresh credential before this runs out (app/signaling/ice.ts reads
 * `ttl`), and an allocation outlives its credential, so a call never notices.
 */
export const DEFAULT_TURN_TTL_SECONDS = 600;

export interface TurnCredential {
  /** `${expiryUnixSeconds}:${randomId}`; the id has no ':' (coturn's separator). */
  username: string;
  /** base64(HMAC-SHA1(secret, username)), the RTCIceServer `credential`. */
  credential: string;
  /** When coturn starts refusing the username, in ms since the epoch (like `Date.now()`). */
  expiresAt: number;
}

export interface IssueTurnCredentialOptions {
  /** Must equal coturn's `static-auth-secret` (the server's TURN_SECRET). */
  secret: string;
  ttlSeconds: number;
  /** ms since the epoch; injectable so tests can pin the clock. */
  now?: number;
}

export function issueTurnCredential({
  secret,
  ttlSeconds,
  now = Date.now(),
}: IssueTurnCredentialOptions): TurnCredential {
  if (secret === '') throw new Error('issueTurnCredential: secret is empty');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`issueTurnCredential: ttlSeconds must be a positive whole number, got ${ttlSeconds}`);
  }
  if (!Number.isFinite(now)) throw new Error(`issueTurnCredential: now must be a finite time, got ${now}`);
  const expiryUnix = Math.floor(now / 1000) + ttlSeconds;
  // base64url has no ':', so coturn's split on the first ':' finds the expiry.
  const username = `${expiryUnix}:${randomBytes(12).toString('base64url')}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt: expiryUnix * 1000 };
}

// RFC 7064 (stun:) and RFC 7065 (turn:, turns:): scheme ":" host [":" port],
// and for turn/turns an optional "?transport=udp|tcp". No "//", no path.
const ICE_URL = /^(stun|turn|turns):(\[[^\]]+\]|[^:?/[\]]+)(?::(\d{1,5}))?(?:\?transport=([a-z]+))?$/;
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** Why `entry` is not a usable ICE server URL, or null when it is. */
function iceUrlProblem(entry: string): string | null {
  if (/^(stun|turns?):\/\//i.test(entry)) return 'has "//" after the scheme (write turn:host:3478, not turn://host:3478)';
  const match = ICE_URL.exec(entry);
  if (!match) return 'expected stun:host[:port], turn:host[:port][?transport=udp|tcp] or turns:host[:port][?transport=tcp]';
  const [, scheme, host = '', port, transport] = match;
  if (host.startsWith('[')) {
    if (isIP(host.slice(1, -1)) !== 6) return `"${host}" is not an IPv6 address`;
  } else if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    return `"${host}" is not a host name or IP address`;
  }
  if (port !== undefined) {
    const n = Number(port);
    if (n < 1 || n > 65_535) return `port ${port} is outside 1..65535`;
  }
  if (transport !== undefined) {
    if (scheme === 'stun') return 'stun: URLs take no ?transport (RFC 7064)';
    if (transport !== 'udp' && transport !== 'tcp') return `transport must be udp or tcp, got "${transport}"`;
  }
  return null;
}

/**
 * Parses a comma-separated list of ICE server URLs (the TURN_URLS / STUN_URLS
 * env vars). Blank entries are ignored; any bad entry throws an Error that
 * names it, so a typo stops the server at start instead of producing calls
 * that silently never relay.
 */
export function parseIceUrls(csv: string, source = 'ICE URL list'): string[] {
  const urls: string[] = [];
  for (const part of csv.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const problem = iceUrlProblem(entry);
    if (problem !== null) throw new Error(`${source}: invalid entry "${entry}": ${problem}`);
    urls.push(entry);
  }
  return urls;
}
