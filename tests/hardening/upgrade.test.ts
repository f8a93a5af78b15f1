/**
 * The real server process, seen by a browser and by a hostile host: security
 * headers on every route, WebSocket upgrades refused for foreign origins and
 * for addresses over their limits, and X-Forwarded-For believed only from a
 * trusted proxy.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeDist } from '../helpers/broker';
import { closed, metric, mqttUrlOf, openSocket, pollUntil, type SocketOptions } from '../helpers/hostile';
import { startServer, type ServerProcess } from '../helpers/server';

const started: ServerProcess[] = [];
async function serve(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServer({ DIST_DIR: await makeDist(), LOG_LEVEL: 'warn', ...env });
  started.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await cleanup();
});

interface Head {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

function head(server: ServerProcess, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Head> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers, path }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cspFor = (connect: string): string =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    `connect-src ${connect}`,
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

describe('security headers', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await serve();
  });

  const routes: Array<[string, string, number]> = [
    ['GET', '/', 200],
    ['GET', '/call', 200],
    ['GET', '/assets/x.js', 200],
    ['GET', '/sw.js', 200],
    ['GET', '/manifest.webmanifest', 200],
    ['GET', '/healthz', 200],
    ['GET', '/metrics', 401],
    ['GET', '/config.json', 200],
    ['GET', '/api/ice', 0],
    ['GET', '/missing.js', 404],
    ['GET', '/mqtt', 426],
    ['POST', '/', 405],
    ['HEAD', '/', 200],
  ];

  it.each(routes)('%s %s carries every header', async (method, path, status) => {
    const res = await head(server, path, method);
    if (status !== 0) expect(res.status).toBe(status);
    const host = `127.0.0.1:${server.port}`;
    expect(res.headers['content-security-policy']).toBe(cspFor(`'self' ws://${host}`));
    expect(res.headers['permissions-policy']).toBe('camera=(self), microphone=(self), display-capture=(self)');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    // Plain HTTP: HSTS would be ignored by browsers and is not sent.
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('never echoes a hostile Host header into the CSP', async () => {
    const res = await head(server, '/', 'GET', { Host: "evil.example; script-src 'unsafe-inline'" });
    expect(res.headers['content-security-policy']).toBe(cspFor("'self'"));
  });

  it('names BROKER_URL in connect-src, and HSTS + wss behind a trusted TLS proxy', async () => {
    const proxied = await serve({ BROKER_URL: 'wss://mqtt.example.org/mqtt', TRUSTED_PROXY: '127.0.0.1' });
    const res = await head(proxied, '/healthz', 'GET', { Host: 'tandem.example.org', 'X-Forwarded-Proto': 'https' });
    expect(res.headers['content-security-policy']).toBe(cspFor("'self' wss://tandem.example.org wss://mqtt.example.org"));
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    // The same header from an untrusted peer changes nothing.
    const direct = await head(server, '/healthz', 'GET', { Host: 'tandem.example.org', 'X-Forwarded-Proto': 'https' });
    expect(direct.headers['strict-transport-security']).toBeUndefined();
    expect(direct.headers['content-security-policy']).toContain('connect-src \'self\' ws://tandem.example.org;');
  });
});

describe('WebSocket origin', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await serve({ ALLOWED_ORIGINS: 'https://app.example.org' });
  });
  const sockets: Array<{ ws: import('ws').WebSocket | null }> = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.ws?.terminate();
  });
  const attempt = async (options: SocketOptions): Promise<number> => {
    const result = await openSocket(mqttUrlOf(server.url), options);
    sockets.push(result);
    return result.status;
  };

  it('refuses Origin: https://evil.example with 403 before the handshake, and counts it', async () => {
    const before = await metric(server.url, 'tandem_upgrades_refused_total', { reason: 'origin' });
    expect(await attempt({ origin: 'https://evil.example' })).toBe(403);
    expect(await metric(server.url, 'tandem_upgrades_refused_total', { reason: 'origin' })).toBe(before + 1);
  });

  it.each([
    ['the opaque origin of a sandboxed frame', 'null'],
    ['the right host on another port', 'http://127.0.0.1:1'],
    ['a look-alike host', 'http://127.0.0.1.evil.example'],
  ])('refuses %s', async (_what, origin) => {
    expect(await attempt({ origin })).toBe(403);
  });

  it('accepts its own origin, a listed one, and clients that send none (not browsers)', async () => {
    expect(await attempt({ origin: `http://127.0.0.1:${server.port}` })).toBe(101);
    expect(await attempt({ origin: 'https://app.example.org' })).toBe(101);
    expect(await attempt({})).toBe(101);
  });
});

describe('per-address limits before the handshake', () => {
  const open: Array<import('ws').WebSocket> = [];
  afterEach(() => {
    for (const ws of open.splice(0)) ws.terminate();
  });
  async function status(server: ServerProcess, options: SocketOptions = {}): Promise<{ status: number; retryAfter?: string | undefined }> {
    const result = await openSocket(mqttUrlOf(server.url), options);
    if (result.ws) open.push(result.ws);
    return result.ws ? { status: result.status } : { status: result.status, retryAfter: result.retryAfter };
  }

  it('caps open connections per address with 429, and frees a place when one closes', async () => {
    const server = await serve({ MAX_CONNECTIONS_PER_IP: '3' });
    for (let i = 0; i < 3; i += 1) expect((await status(server)).status).toBe(101);
    expect((await status(server)).status).toBe(429);
    // Another address is not affected.
    expect((await status(server, { localAddress: '127.0.0.3' })).status).toBe(101);

    const closedBefore = await metric(server.url, 'tandem_connections_closed_total', { reason: 'normal' });
    const first = open.shift()!;
    first.close();
    await closed(first);
    // The server's close is in another process; its counter is the event we can see.
    await pollUntil(async () => (await metric(server.url, 'tandem_connections_closed_total', { reason: 'normal' })) > closedBefore, {
      what: 'server-side close',
    });
    expect((await status(server)).status).toBe(101);
    expect(await metric(server.url, 'tandem_upgrades_refused_total', { reason: 'ip-connections' })).toBe(1);
  });

  it('limits the rate of new connections per address, with Retry-After', async () => {
    const server = await serve({ CONNECT_BURST_PER_IP: '5', CONNECT_RATE_PER_IP: '1' });
    for (let i = 0; i < 5; i += 1) expect((await status(server)).status).toBe(101);
    const refused = await status(server);
    expect(refused).toEqual({ status: 429, retryAfter: '1' });
    expect(await metric(server.url, 'tandem_upgrades_refused_total', { reason: 'ip-rate' })).toBe(1);
  });

  it('never bans an address for flapping: sockets that open and close are judged by the connect rate alone (issue 11)', async () => {
    // Flapping is judged per MQTT clientId now (shared-address.test.ts); people behind one NAT come and go.
    const server = await serve({ FLAP_MAX: '3', FLAP_WINDOW_MS: '60000', FLAP_BAN_MS: '60000' });
    for (let i = 0; i < 10; i += 1) {
      const { ws } = await openSocket(mqttUrlOf(server.url));
      ws!.close();
      await closed(ws!);
    }
    expect((await status(server)).status).toBe(101);
    expect(await metric(server.url, 'tandem_flap_bans_total')).toBe(0);
  });

  it('believes X-Forwarded-For only from a TRUSTED_PROXY', async () => {
    const xff = (ip: string): SocketOptions => ({ headers: { 'X-Forwarded-For': `198.51.100.9, ${ip}` } });
    const proxied = await serve({ MAX_CONNECTIONS_PER_IP: '2', TRUSTED_PROXY: '127.0.0.1' });
    expect((await status(proxied, xff('203.0.113.7'))).status).toBe(101);
    expect((await status(proxied, xff('203.0.113.7'))).status).toBe(101);
    expect((await status(proxied, xff('203.0.113.7'))).status).toBe(429);
    // The leftmost entry is the client's own claim and changes nothing: the proxy appended 203.0.113.8.
    expect((await status(proxied, xff('203.0.113.8'))).status).toBe(101);

    const direct = await serve({ MAX_CONNECTIONS_PER_IP: '2' });
    expect((await status(direct, xff('203.0.113.1'))).status).toBe(101);
    expect((await status(direct, xff('203.0.113.2'))).status).toBe(101);
    expect((await status(direct, xff('203.0.113.3'))).status).toBe(429);
  });
});
