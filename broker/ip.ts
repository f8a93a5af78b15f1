/**
 * Who is on the other end of a request, for per-address limits.
 *
 * The socket's peer address is the client, unless that peer is one of the
 * proxies named in TRUSTED_PROXY: then X-Forwarded-For is read from the right,
 * skipping trusted proxies, and the first untrusted hop is the client. The
 * leftmost entries are whatever the client chose to send, so they are never
 * believed (MDN "X-Forwarded-For", "Selecting an IP address").
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

export interface ProxyTrust {
  /** True when `address` is a proxy whose X-Forwarded-* headers are believed. */
  trusts(address: string): boolean;
}

/** Parses TRUSTED_PROXY entries: addresses (`10.0.0.5`, `::1`) or CIDR ranges (`10.0.0.0/8`). Throws on anything else. */
export function proxyTrust(entries: readonly string[]): ProxyTrust {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) throw new Error(`not an IP address or CIDR range: "${entry}"`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) throw new Error(`bad prefix length in "${entry}"`);
    list.addSubnet(address, bits, type);
  }
  const empty = entries.length === 0;
  return {
    trusts(address) {
      if (empty) return false;
      const plain = unmapped(address);
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) → `1.2.3.4`. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The client's address; `unknown` when the socket has none (already closed). */
export function clientAddress(req: IncomingMessage, trust: ProxyTrust): string {
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return 'unknown';
  let client = unmapped(peer);
  if (!trust.trusts(client)) return client;
  const hops = forwardedFor(req.headers['x-forwarded-for']);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = hops[i]!;
    // A malformed entry ends the walk: everything left of it is unverifiable,
    // and the proxy that appended it is the last address we know for sure.
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trust.trusts(hop)) return hop;
  }
  return client;
}

/** X-Forwarded-For may appear several times; Node joins repeats with ", ". */
function forwardedFor(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined
    .split(',')
    .map((s) => unmapped(s.trim()))
    .filter((s) => s !== '');
}

/**
 * The key per-address limits count under. One IPv6 subscriber usually holds a
 * whole /64 and can pick any address in it, so IPv6 is counted per /64;
 * IPv4 per address.
 */
export function limitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/** Eight 16-bit groups as lowercase hex, or null if `address` is not plain IPv6. */
function expandIpv6(address: string): string[] | null {
  const zoneless = address.split('%', 1)[0] ?? address;
  const [head = '', tail, ...rest] = zoneless.split('::');
  if (rest.length > 0) return null;
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (`::1.2.3.4`) takes two groups.
  const last = right.length > 0 ? right : left;
  const v4 = last.length > 0 && last[last.length - 1]!.includes('.') ? last.pop()! : null;
  if (v4 !== null) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return null;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) =>
    (Number.parseInt(g, 16) || 0).toString(16),
  );
}
