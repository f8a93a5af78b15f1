/**
 * broker/ice.ts on its own, in-process, with the clock and the client
 * address injected: the rate limit's refill, IPv6 /64 keys and the exact
 * expiry arithmetic, which the real-process tests (ice.test.ts) can't steer.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { IceEndpoint, type IceConfig } from '../../broker/ice';
import { Metrics } from '../../broker/metrics';

const CALLER = 'room.caller';

interface Setup {
  server: Server;
  metrics: Metrics;
  clock: { now: number };
  /** GET with the client address the endpoint should see. */
  get(path: string, address: string, method?: string): Promise<{ status: number; headers: Headers; body: unknown }>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** `admitted`: clientId → the address its MQTT connection came from. */
async function setup(ice: Partial<IceConfig> = {}, admitted: Record<string, string> = { [CALLER]: '192.0.2.1' }): Promise<Setup> {
  const clock = { now: 1_700_000_000_250 };
  const metrics = new Metrics();
  const endpoint = new IceEndpoint({
    ice: { stunUrls: ['stun:stun.example.org'], turn: { urls: ['turn:turn.example.org'], secret: 'x'.repeat(32), ttlSeconds: 600, credentialsPerIp: 100 }, rateLimitPerMinute: 3, ...ice },
    metrics,
    logger: pino({ level: 'silent' }),
    admittedUpgrade: (id) => (id in admitted ? ({ headers: { 'x-address': admitted[id] } } as unknown as IncomingMessage) : null),
    // Stands in for ip.ts clientAddress, for both the request and the MQTT upgrade.
    clientAddress: (req) => String(req.headers['x-address'] ?? 'unknown'),
    now: () => clock.now,
  });
  const server = createServer((req, res) => endpoint.serve(req, res, req.url ?? '/'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    metrics,
    clock,
    async get(path, address, method = 'GET') {
      const res = await fetch(`${base}${path}`, { method, headers: { 'x-address': address } });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
    },
  };
}

const ask = `/api/ice?client=${CALLER}`;

describe('IceEndpoint', () => {
  it('issues a credential that expires TURN_TTL after the injected now, whole seconds', async () => {
    const s = await setup();
    const res = await s.get(ask, '192.0.2.1');
    expect(res.status).toBe(200);
    const body = res.body as { iceServers: Array<{ urls: string[]; username?: string }>; expiresAt: number; ttl: number };
    expect(body.expiresAt).toBe((1_700_000_000 + 600) * 1000);
    expect(body.ttl).toBe(600);
    expect(body.iceServers[0]).toEqual({ urls: ['stun:stun.example.org'] });
    expect(body.iceServers[1]?.username).toMatch(/^1700000600:/);
    expect(await s.metrics.text()).toMatch(/^tandem_turn_credentials_issued_total 1$/m);
  });

  it('without TURN answers STUN only, expiresAt null, and counts no credential', async () => {
    const s = await setup({ turn: null });
    const res = await s.get(ask, '192.0.2.1');
    expect(res.body).toEqual({ iceServers: [{ urls: ['stun:stun.example.org'] }], expiresAt: null, ttl: null });
    expect(await s.metrics.text()).toMatch(/^tandem_turn_credentials_issued_total 0$/m);
  });

  it('refills the limit over the minute: Retry-After says when the next request fits', async () => {
    const s = await setup();
    for (let i = 0; i < 3; i++) expect((await s.get(ask, '192.0.2.1')).status).toBe(200);
    const limited = await s.get(ask, '192.0.2.1');
    expect(limited.status).toBe(429);
    // 3 per minute = one every 20 s.
    expect(limited.headers.get('retry-after')).toBe('20');
    s.clock.now += 19_000;
    expect((await s.get(ask, '192.0.2.1')).headers.get('retry-after')).toBe('1');
    s.clock.now += 1_000;
    expect((await s.get(ask, '192.0.2.1')).status).toBe(200);
    expect(await s.metrics.text()).toMatch(/^tandem_ice_refused_total\{reason="rate-limited"\} 2$/m);
  });

  it('counts an IPv6 client per /64, so rotating addresses inside it does not reset the limit', async () => {
    const s = await setup({ turn: null });
    for (const host of ['1', '2', 'ffff:ffff']) expect((await s.get('/api/ice?client=x', `2001:db8:1:2::${host}`)).status).toBe(403);
    expect((await s.get('/api/ice?client=x', '2001:db8:1:2:a:b:c:d')).status).toBe(429);
    expect((await s.get('/api/ice?client=x', '2001:db8:1:3::1')).status).toBe(403);
  });

  it('refuses a request from another address than the MQTT connection, or from an unknown one', async () => {
    const s = await setup({ rateLimitPerMinute: 100 }, { [CALLER]: '192.0.2.1', 'room.ghost': 'unknown' });
    expect((await s.get(ask, '192.0.2.2')).body).toEqual({ error: 'not-in-call' });
    expect((await s.get('/api/ice?client=room.ghost', 'unknown')).status).toBe(403);
  });

  it.each([`/api/ice?client=${CALLER}&client=${CALLER}`, '/api/ice?client', `/api/ice?client=${'x'.repeat(300)}`])(
    'refuses %s',
    async (path) => {
      const s = await setup({ rateLimitPerMinute: 100 });
      expect((await s.get(path, '192.0.2.1')).status).toBe(403);
    },
  );

  it('answers only GET', async () => {
    const s = await setup();
    const res = await s.get(ask, '192.0.2.1', 'POST');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});
