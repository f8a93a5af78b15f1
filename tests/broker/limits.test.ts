/**
 * The limit primitives with a fake clock, and the client-address rules, as
 * plain functions. tests/hardening drives the same code through the real server.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, limitKey, proxyTrust, unmapped } from '../../broker/ip';
import { FlapDetector, IpLimiter, KeyedRateLimit, TokenBucket, type FlapLimits, type IpLimits } from '../../broker/limits';
import { SecurityHeaders } from '../../broker/headers';

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(2, 5, clock.now);
    for (let i = 0; i < 5; i += 1) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    expect(bucket.waitSeconds()).toBeCloseTo(0.5);
    clock.advance(500);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('never holds more than the burst, and takes nothing when it refuses', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 3, clock.now);
    clock.advance(60_000);
    expect(bucket.take(4)).toBe(false);
    expect(bucket.take(3)).toBe(true);
    expect(bucket.full).toBe(false);
    clock.advance(300);
    expect(bucket.full).toBe(true);
  });
});

describe('KeyedRateLimit', () => {
  it('counts each key on its own and says how long to wait', () => {
    const clock = fakeClock();
    // 12 a minute: one token every 5 s.
    const limit = new KeyedRateLimit(12, 12 / 60, clock.now);
    for (let i = 0; i < 12; i += 1) expect(limit.take('a')).toBeNull();
    expect(limit.take('a')).toBe(5);
    expect(limit.take('b')).toBeNull();
    clock.advance(5000);
    expect(limit.take('a')).toBeNull();
  });

  it('forgets keys whose bucket has refilled, so memory follows recent traffic', () => {
    const clock = fakeClock();
    const limit = new KeyedRateLimit(2, 2 / 60, clock.now);
    for (let i = 0; i < 1000; i += 1) limit.take(`k${i}`);
    expect(limit.size).toBe(1000);
    clock.advance(61_000);
    limit.take('fresh');
    expect(limit.size).toBe(1);
  });
});

const LIMITS: IpLimits = { maxConnections: 3, connectRate: 1, connectBurst: 5 };
const FLAP: FlapLimits = { flapMax: 4, flapWindowMs: 60_000, banMs: 30_000 };

describe('IpLimiter', () => {
  it('caps open connections per key', () => {
    const limiter = new IpLimiter(LIMITS, fakeClock().now);
    for (let i = 0; i < 3; i += 1) {
      expect(limiter.admit('a')).toEqual({ ok: true });
      limiter.opened('a');
    }
    expect(limiter.admit('a')).toEqual({ ok: false, reason: 'ip-connections', retryAfterSeconds: null });
    expect(limiter.admit('b')).toEqual({ ok: true });
  });

  it('limits the rate of new connections, with the wait in whole seconds', () => {
    const clock = fakeClock();
    const limiter = new IpLimiter({ ...LIMITS, maxConnections: 100 }, clock.now);
    for (let i = 0; i < 5; i += 1) expect(limiter.admit('a').ok).toBe(true);
    expect(limiter.admit('a')).toEqual({ ok: false, reason: 'ip-rate', retryAfterSeconds: 1 });
    clock.advance(1000);
    expect(limiter.admit('a').ok).toBe(true);
  });

  it('forgets keys that remember nothing, so the table follows recent traffic, not history', () => {
    const clock = fakeClock();
    const limiter = new IpLimiter(LIMITS, clock.now);
    for (let i = 0; i < 1000; i += 1) {
      limiter.admit(`10.0.${i >> 8}.${i & 255}`);
      limiter.opened(`10.0.${i >> 8}.${i & 255}`);
      limiter.closed(`10.0.${i >> 8}.${i & 255}`);
    }
    limiter.admit('still-open');
    limiter.opened('still-open');
    expect(limiter.size).toBe(1001);
    clock.advance(5000); // the buckets refill (burst 5 at 1/s)
    limiter.sweep();
    expect(limiter.size).toBe(1);
    expect(limiter.openCount('still-open')).toBe(1);
  });

  it('never bans an address for flapping: people behind one NAT come and go (issue 11)', () => {
    const limiter = new IpLimiter({ ...LIMITS, connectBurst: 1000 }, fakeClock().now);
    for (let i = 0; i < 500; i += 1) {
      expect(limiter.admit('nat').ok).toBe(true);
      limiter.opened('nat');
      limiter.closed('nat');
    }
  });
});

describe('FlapDetector (per clientId)', () => {
  it('bans an id whose connections close flapMax times within the window, once, until banMs has passed', () => {
    const clock = fakeClock();
    const bans: string[] = [];
    const flapping = new FlapDetector(FLAP, clock.now, (id) => bans.push(id));
    for (let i = 0; i < 4; i += 1) {
      expect(flapping.bannedFor('a')).toBeNull();
      clock.advance(1000);
      flapping.closed('a');
    }
    expect(bans).toEqual(['a']);
    expect(flapping.bannedFor('a')).toBe(30);
    expect(flapping.bannedFor('b')).toBeNull();
    clock.advance(30_000);
    expect(flapping.bannedFor('a')).toBeNull();
  });

  it('does not ban closes spread wider than the window', () => {
    const clock = fakeClock();
    const bans: string[] = [];
    const flapping = new FlapDetector(FLAP, clock.now, (id) => bans.push(id));
    for (let i = 0; i < 10; i += 1) {
      flapping.closed('a');
      clock.advance(20_001); // 4 closes span 60,003 ms
    }
    expect(bans).toEqual([]);
  });

  it('forgets ids with no ban and no recent close', () => {
    const clock = fakeClock();
    const flapping = new FlapDetector(FLAP, clock.now);
    for (let i = 0; i < 1000; i += 1) flapping.closed(`room.${i}`);
    expect(flapping.size).toBe(1000);
    clock.advance(FLAP.flapWindowMs + 1);
    flapping.sweep();
    expect(flapping.size).toBe(0);
  });
});

const req = (remoteAddress: string | undefined, headers: Record<string, string> = {}): IncomingMessage =>
  ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

describe('client address', () => {
  const trust = proxyTrust(['127.0.0.1', '10.0.0.0/8', '::1']);

  it('is the socket peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress(req('203.0.113.5', { 'x-forwarded-for': '1.2.3.4' }), trust)).toBe('203.0.113.5');
    expect(clientAddress(req('::ffff:203.0.113.5'), trust)).toBe('203.0.113.5');
    expect(clientAddress(req(undefined), trust)).toBe('unknown');
  });

  it('is the rightmost untrusted hop behind trusted proxies', () => {
    expect(clientAddress(req('127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.5' }), trust)).toBe('203.0.113.5');
    expect(clientAddress(req('127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.5, 10.1.2.3' }), trust)).toBe('203.0.113.5');
    expect(clientAddress(req('::1', { 'x-forwarded-for': '2001:db8::7' }), trust)).toBe('2001:db8::7');
  });

  it('stops at a malformed hop, and falls back to the peer without the header', () => {
    expect(clientAddress(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.5, not-an-ip' }), trust)).toBe('127.0.0.1');
    expect(clientAddress(req('127.0.0.1'), trust)).toBe('127.0.0.1');
  });

  it('trusts nobody by default', () => {
    expect(clientAddress(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.5' }), proxyTrust([]))).toBe('127.0.0.1');
  });

  it.each(['proxy.example.org', '10.0.0.0/33', '::1/129', '1.2.3.4/8/9', '10.0.0.0/x'])('refuses the TRUSTED_PROXY entry %s', (entry) => {
    expect(() => proxyTrust([entry])).toThrow();
  });

  it('counts IPv6 per /64 and IPv4 per address', () => {
    expect(limitKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(limitKey('::1')).toBe('0:0:0:0::/64');
    expect(limitKey('203.0.113.5')).toBe('203.0.113.5');
    expect(unmapped('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('security headers', () => {
  it('sends HSTS and wss:// only when the browser is on HTTPS', () => {
    const trust = proxyTrust(['127.0.0.1']);
    const https = new SecurityHeaders({ brokerUrl: null, secure: true, trust }).headersFor(req('203.0.113.5', { host: 'tandem.example' }));
    expect(https['Strict-Transport-Security']).toBe('max-age=31536000; includeSubDomains');
    expect(https['Content-Security-Policy']).toContain("connect-src 'self' wss://tandem.example;");
    const http = new SecurityHeaders({ brokerUrl: null, secure: false, trust }).headersFor(req('203.0.113.5', { host: 'tandem.example' }));
    expect(http['Strict-Transport-Security']).toBeUndefined();
    expect(http['Content-Security-Policy']).toContain("connect-src 'self' ws://tandem.example;");
  });
});
