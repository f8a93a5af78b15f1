/**
 * TURN credentials (broker/turn.ts) against a real coturn, and the production
 * coturn config's peer restrictions.
 *
 * turnutils_uclient flags used (see `turnutils_uclient -h`):
 *   -u USER -w PASS  long-term credentials (what a browser sends)
 *   -p PORT          server port; the server address is the last argument
 *   -y               two clients relay to each other's allocation (no peer process needed)
 *   -e IP [-r PORT]  peer address to CreatePermission/ChannelBind for
 *   -c               no second (RTCP) allocation
 *   -n N             messages to send; -n 0 sends none, so a refused peer never gets a packet
 *   -t               TCP to the server (default UDP)
 * It exits 0 after a successful run and 255 when the allocation is refused.
 */
import { createHmac, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TURN_TTL_SECONDS, issueTurnCredential, parseIceUrls } from '../../broker/turn';
import { findTurnutils } from '../helpers/binaries';
import { type Coturn, runUclient, startCoturn } from '../helpers/coturn';

const PRODUCTION_CONF = fileURLToPath(new URL('../../deploy/coturn/turnserver.conf', import.meta.url));

describe('issueTurnCredential', () => {
  const now = 1_700_000_000_750;

  it('builds "<expiry>:<id>" with the expiry ttl seconds from now', () => {
    const { username, expiresAt } = issueTurnCredential({ secret: 's', ttlSeconds: 600, now });
    const match = /^(\d+):([A-Za-z0-9_-]+)$/.exec(username);
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBe(1_700_000_000 + 600);
    expect(match?.[2]).toHaveLength(16);
    expect(expiresAt).toBe((1_700_000_000 + 600) * 1000);
  });

  it('signs the username with HMAC-SHA1 (checked with WebCrypto and a fixed vector)', async () => {
    const secret = 'tandem-secret';
    const { username, credential } = issueTurnCredential({ secret, ttlSeconds: 60, now });
    const key = await webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-1' },
      false,
      ['sign'],
    );
    const mac = await webcrypto.subtle.sign('HMAC', key, new TextEncoder().encode(username));
    expect(credential).toBe(Buffer.from(mac).toString('base64'));
    // RFC 2202 test case 2, so the primitive itself is pinned, not just self-consistent.
    expect(createHmac('sha1', 'Jefe').update('what do ya want for nothing?').digest('hex')).toBe(
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    );
  });

  it('uses a fresh id every time', () => {
    const names = new Set(Array.from({ length: 50 }, () => issueTurnCredential({ secret: 's', ttlSeconds: 60 }).username));
    expect(names.size).toBe(50);
  });

  it('defaults to the real clock', () => {
    const before = Date.now();
    const { expiresAt } = issueTurnCredential({ secret: 's', ttlSeconds: DEFAULT_TURN_TTL_SECONDS });
    expect(expiresAt).toBeGreaterThan(before + (DEFAULT_TURN_TTL_SECONDS - 1) * 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + DEFAULT_TURN_TTL_SECONDS * 1000);
  });

  it.each([0, -5, 1.5, Number.NaN])('rejects ttlSeconds %s', (ttlSeconds) => {
    expect(() => issueTurnCredential({ secret: 's', ttlSeconds })).toThrow(/ttlSeconds/);
  });

  it('rejects an empty secret', () => {
    expect(() => issueTurnCredential({ secret: '', ttlSeconds: 60 })).toThrow(/secret/);
  });
});

describe('parseIceUrls', () => {
  it('accepts stun/turn/turns with ports, IPv6 and transports, ignoring blanks', () => {
    expect(
      parseIceUrls(
        ' stun:stun.example.com:3478, turn:turn.example.com?transport=udp,,turn:[2001:db8::1]:3478?transport=tcp,turns:turn.example.com:5349?transport=tcp,turn:10.1.2.3 ,',
      ),
    ).toEqual([
      'stun:stun.example.com:3478',
      'turn:turn.example.com?transport=udp',
      'turn:[2001:db8::1]:3478?transport=tcp',
      'turns:turn.example.com:5349?transport=tcp',
      'turn:10.1.2.3',
    ]);
  });

  it('returns [] for an empty list', () => {
    expect(parseIceUrls('')).toEqual([]);
    expect(parseIceUrls(' , ')).toEqual([]);
  });

  it.each([
    ['http://turn.example.com', /invalid entry "http:\/\/turn.example.com"/],
    ['turn://turn.example.com:3478', /"\/\/" after the scheme/],
    ['stuns:stun.example.com', /invalid entry "stuns:stun.example.com"/],
    ['turn:turn.example.com:0', /port 0/],
    ['turn:turn.example.com:70000', /port 70000/],
    ['turn:turn.example.com?transport=sctp', /transport must be udp or tcp/],
    ['stun:stun.example.com?transport=udp', /stun: URLs take no \?transport/],
    ['turn:[2001:db8::zz]', /not an IPv6 address/],
    ['turn:bad_host!', /invalid entry/],
    ['turn:-bad.example.com', /not a host name/],
    ['turn:', /invalid entry "turn:"/],
  ])('rejects %s, naming it', (entry, message) => {
    expect(() => parseIceUrls(`stun:ok.example.com,${entry}`, 'TURN_URLS')).toThrow(message);
    expect(() => parseIceUrls(entry, 'TURN_URLS')).toThrow(/^TURN_URLS: /);
  });
});

// Locally a missing coturn skips (with a printed reason); in CI it throws here.
const bins = findTurnutils();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The totals line uclient prints at the end of a run. */
function totals(output: string): { sent: number; received: number } | null {
  const all = [...output.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/gm)];
  const last = all.at(-1);
  return last ? { sent: Number(last[1]), received: Number(last[2]) } : null;
}

// One successful uclient run takes 3-6 s of its own pacing; leave room on a busy 2-core CI machine.
const UCLIENT_TEST = { timeout: 40_000 };

describe.skipIf(bins === null)('coturn accepts issueTurnCredential credentials', UCLIENT_TEST, () => {
  const uclient = bins?.uclient ?? '';
  // A second static-auth-secret, as during a rotation overlap (deploy/coturn/README.md).
  const nextSecret = 'next-secret-during-rotation';
  let turn: Coturn;

  beforeAll(async () => {
    turn = await startCoturn({ allowLoopbackPeers: true, extraConfig: [`static-auth-secret=${nextSecret}`] });
  });
  afterAll(async () => {
    await turn?.stop();
  });

  async function relayWorks(secret: string, transportFlags: string[]): Promise<void> {
    const { username, credential } = issueTurnCredential({ secret, ttlSeconds: 300 });
    const args = [...transportFlags, '-y', '-c', '-n', '2', '-p', String(turn.port), '-u', username, '-w', credential, '127.0.0.1'];
    const result = await runUclient(uclient, args);
    expect(result.timedOut, result.output).toBe(false);
    expect(result.code, result.output).toBe(0);
    const sums = totals(result.output);
    expect(sums, result.output).not.toBeNull();
    expect(sums?.sent).toBeGreaterThan(0);
    expect(sums?.received).toBe(sums?.sent);
    await turn.waitForLog(new RegExp(`user <${escapeRegExp(username)}>: incoming packet ALLOCATE processed, success`));
  }

  it('allocates and relays over UDP', async () => {
    await relayWorks(turn.secret, []);
  });

  it('allocates and relays over TCP', async () => {
    await relayWorks(turn.secret, ['-t']);
  });

  it('accepts either of two static-auth-secret lines (rotation overlap)', async () => {
    await relayWorks(nextSecret, []);
  });

  async function expectUnauthorized(username: string, credential: string): Promise<string> {
    const args = ['-y', '-c', '-n', '1', '-p', String(turn.port), '-u', username, '-w', credential, '127.0.0.1'];
    const result = await runUclient(uclient, args);
    expect(result.timedOut, result.output).toBe(false);
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toContain('Cannot complete Allocation');
    return turn.waitForLog(new RegExp(`user <${escapeRegExp(username)}>: incoming packet message processed, error 401`));
  }

  it('rejects an expired credential with 401', async () => {
    const expired = issueTurnCredential({ secret: turn.secret, ttlSeconds: 60, now: Date.now() - 120_000 });
    expect(expired.expiresAt).toBeLessThan(Date.now());
    const log = await expectUnauthorized(expired.username, expired.credential);
    expect(log).toContain(`Cannot find credentials of user <${expired.username}>`);
  });

  it('rejects a credential signed with the wrong secret with 401', async () => {
    const forged = issueTurnCredential({ secret: 'not-the-secret', ttlSeconds: 300 });
    await expectUnauthorized(forged.username, forged.credential);
  });
});

const productionText = readFileSync(PRODUCTION_CONF, 'utf8');
const directives = productionText.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
const deniedRanges = directives.filter((l) => l.startsWith('denied-peer-ip=')).map((l) => l.slice('denied-peer-ip='.length));

describe('deploy/coturn/turnserver.conf (static)', () => {
  it('never allows loopback peers', () => {
    expect(directives.some((l) => /^(--)?allow-loopback-peers\b/.test(l))).toBe(false);
  });

  it.each([
    'use-auth-secret', 'static-auth-secret=', 'realm=', 'listening-port=3478', 'tls-listening-port=5349', 'cert=', 'pkey=',
    'fingerprint', 'no-cli', 'no-multicast-peers', 'no-tlsv1', 'no-tlsv1_1', 'user-quota=', 'total-quota=',
    'min-port=49152', 'max-port=65535', 'stale-nonce', 'no-software-attribute',
  ])('has %s', (directive) => {
    expect(directives.some((l) => l === directive || l.startsWith(directive.endsWith('=') ? directive : `${directive}=`))).toBe(true);
  });

  it('writes denied-peer-ip as ranges (coturn 4.6 silently drops CIDR rules)', () => {
    expect(deniedRanges.length).toBeGreaterThan(20);
    for (const range of deniedRanges) expect(range).not.toContain('/');
  });
});

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** IPv4 ranges coturn itself reported loading ("Black listing: a-b" / "Black listing: a"). */
function loadedIpv4Ranges(log: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const [, first = '', last] of log.matchAll(/Black listing: (\d+\.\d+\.\d+\.\d+)(?:-(\d+\.\d+\.\d+\.\d+))?/g)) {
    ranges.push([ipv4ToInt(first), ipv4ToInt(last ?? first)]);
  }
  return ranges;
}

describe.skipIf(bins === null)('coturn with the production config', UCLIENT_TEST, () => {
  const uclient = bins?.uclient ?? '';
  let turn: Coturn;

  beforeAll(async () => {
    // Never allowLoopbackPeers here: the point is the production behaviour.
    turn = await startCoturn({ configFile: PRODUCTION_CONF });
  });
  afterAll(async () => {
    await turn?.stop();
  });

  it('runs the production file with only the loopback overrides', () => {
    expect(turn.config).not.toMatch(/^allow-loopback-peers/m);
    expect(turn.config).toContain('no-tcp-relay');
    expect(turn.config).not.toMatch(/^(cert|pkey|tls-listening-port)=/m);
  });

  it('loads every denied-peer-ip rule', async () => {
    const log = await turn.waitForLog(/Black listing: ff00::/);
    expect(log).not.toContain('Wrong address format');
    for (const range of deniedRanges) expect(log).toContain(`Black listing: ${range}`);
  });

  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254'])('refuses to relay to %s (403 Forbidden IP)', async (peer) => {
    // Guard before any packet: only point uclient at a private address once
    // coturn has confirmed a rule covering it. -n 0 sends no data either way.
    const log = await turn.waitForLog(/Black listing: ff00::/);
    const ip = ipv4ToInt(peer);
    expect(loadedIpv4Ranges(log).some(([a, b]) => a <= ip && ip <= b), `no loaded rule covers ${peer}`).toBe(true);

    const { username, credential } = issueTurnCredential({ secret: turn.secret, ttlSeconds: 300 });
    const args = ['-c', '-n', '0', '-e', peer, '-r', '3480', '-p', String(turn.port), '-u', username, '-w', credential, '127.0.0.1'];
    const result = await runUclient(uclient, args);
    expect(result.timedOut, result.output).toBe(false);
    expect(result.output).toContain('403 (Forbidden IP)');
    // The 403 came after a successful allocation, not from bad credentials.
    await turn.waitForLog(new RegExp(`user <${escapeRegExp(username)}>: incoming packet ALLOCATE processed, success`));
  });
});
