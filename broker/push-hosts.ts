/**
 * Which push endpoints POST /api/push may send to (issue 13).
 *
 * The endpoint comes from the caller, so without a check the relay would be
 * a server-side request forgery tool: a POST to any URL, from inside our
 * network, with a body and headers we choose (cloud metadata at
 * 169.254.169.254, an admin port on localhost, …). So the endpoint must be
 * https: on the default port of a known push service, parsed with the WHATWG
 * URL parser (the one we then connect with), without userinfo, and never an
 * IP literal unless an operator listed that very address.
 *
 * A rule is `host`, `*.host` or either with `:port`:
 *   `host`    matches that hostname exactly;
 *   `*.host`  matches the hostname and any subdomain of it (never a suffix
 *             like `evilhost`: the match is on whole labels);
 *   `:port`   the endpoint must name that port; without it, the endpoint must
 *             use the default port (443).
 * Plain http: is accepted only for a loopback rule with an explicit port
 * (`127.0.0.1:8080`, `localhost:8080`, `[::1]:8080`), so tests and local
 * development can run a push endpoint of their own.
 */
import { isIP } from 'node:net';

export interface PushHostRule {
  /** Lowercase hostname; IPv6 literals in brackets, as URL.hostname has them. */
  host: string;
  /** True for `*.host`: the host itself and its subdomains. */
  subdomains: boolean;
  /** null = the scheme's default port only. */
  port: number | null;
}

/** The push services of the browsers that can install Tandem: Chrome/Android (FCM), Firefox, Safari/iOS, Edge (WNS). */
export const DEFAULT_PUSH_HOSTS: readonly string[] = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  'push.services.mozilla.com',
  'web.push.apple.com',
  '*.push.apple.com',
  '*.notify.windows.com',
];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** A DNS name of letters, digits and hyphens (IDNs in their punycode form). */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Parses one PUSH_ENDPOINT_HOSTS entry; throws with a message that says what is wrong. */
export function parsePushHostRule(entry: string): PushHostRule {
  const text = entry.trim().toLowerCase();
  const subdomains = text.startsWith('*.');
  const rest = subdomains ? text.slice(2) : text;
  // host, host:port, [v6] or [v6]:port
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(rest);
  if (!match) throw new Error(`expected host, *.host or host:port, got "${entry}"`);
  const host = match[1]!;
  const port = match[2] === undefined ? null : Number(match[2]);
  if (port !== null && (port < 1 || port > 65_535)) throw new Error(`bad port in "${entry}"`);
  const literal = isIP(host.replace(/^\[|\]$/g, '')) !== 0;
  if (literal && subdomains) throw new Error(`"*." needs a hostname, not an address: "${entry}"`);
  if (!literal && !HOSTNAME.test(host)) throw new Error(`not a hostname: "${entry}"`);
  return { host, subdomains, port };
}

export type EndpointProblem = 'not-a-url' | 'scheme' | 'userinfo' | 'host' | 'port';

export type EndpointVerdict = { ok: true; url: URL } | { ok: false; problem: EndpointProblem };

/** Checks a subscription endpoint against the rules; on success, the parsed URL to connect to (never the raw string). */
export function checkEndpoint(endpoint: string, rules: readonly PushHostRule[]): EndpointVerdict {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, problem: 'not-a-url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'scheme' };
  if (url.username !== '' || url.password !== '') return { ok: false, problem: 'userinfo' };
  const host = url.hostname;
  const literal = isIP(host.replace(/^\[|\]$/g, '')) !== 0;
  const named = rules.filter((rule) => hostMatches(rule, host, literal));
  if (named.length === 0) return { ok: false, problem: 'host' };
  // URL.port is '' for the scheme's default port, even when it was written out (https://x:443/).
  const port = url.port === '' ? null : Number(url.port);
  const rule = named.find((r) => r.port === port);
  if (!rule) return { ok: false, problem: 'port' };
  if (url.protocol === 'http:' && !(rule.port !== null && LOOPBACK.has(rule.host))) return { ok: false, problem: 'scheme' };
  return { ok: true, url };
}

function hostMatches(rule: PushHostRule, host: string, literal: boolean): boolean {
  if (host === rule.host) return true;
  // An address matches only a rule that names it; `*.1.1` must not match `1.1.1.1`.
  return !literal && rule.subdomains && host.endsWith(`.${rule.host}`);
}
