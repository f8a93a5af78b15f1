/**
 * What a browser gets over plain HTTP: health, runtime config, metrics, and
 * the built app with the cache headers a PWA needs.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { roomFilters } from '../../protocol/index';
import {
  INDEX_HTML,
  cleanup,
  connectPeer,
  makeDist,
  newPeerId,
  newRoomId,
  startTestServer,
  subscribeGranted,
  subscribeRefused,
  type TestServer,
} from '../helpers/broker';
import { metricsHeaders } from '../helpers/server';

afterEach(cleanup);

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http instead of fetch: fetch normalizes `..` and decompresses, and these tests need neither. */
function get(server: TestServer, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /metrics (issue 11: not public)', () => {
  it('answers 401 without the bearer token, or with a wrong one', async () => {
    const server = await startTestServer();
    expect((await get(server, '/metrics')).status).toBe(401);
    expect((await get(server, '/metrics', { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get(server, '/metrics', metricsHeaders)).status).toBe(200);
  });

  it('is not served at all without METRICS_TOKEN', async () => {
    const server = await startTestServer({ metricsToken: null });
    const res = await get(server, '/metrics', metricsHeaders);
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain('tandem_');
  });
});

describe('service endpoints', () => {
  it('GET /healthz answers 200 ok', async () => {
    const server = await startTestServer();
    const res = await get(server, '/healthz');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
  });

  it('GET /config.json says "same origin" by default and is never cached', async () => {
    const server = await startTestServer();
    const res = await get(server, '/config.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.body.toString())).toEqual({ brokerUrl: null, iceServers: [], relay: false, vapidPublicKey: null });
  });

  it('GET /config.json carries BROKER_URL when one is configured', async () => {
    const server = await startTestServer({ brokerUrl: 'wss://mqtt.example.org/mqtt' });
    const res = await get(server, '/config.json');
    expect(JSON.parse(res.body.toString())).toEqual({ brokerUrl: 'wss://mqtt.example.org/mqtt', iceServers: [], relay: false, vapidPublicKey: null });
  });

  it('POST /api/push answers 503 push disabled when the server was started without VAPID keys', async () => {
    // main.ts always has keys (withVapidKeys); an embedder that passes none gets this, not a crash.
    const server = await startTestServer();
    const res = await get(server, '/api/push', { 'Content-Type': 'application/json' }, 'POST');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body.toString())).toEqual({ error: 'push disabled' });
  });

  it('GET /metrics lists the tandem metrics, and a refused subscription shows up in it', async () => {
    const server = await startTestServer();
    const refusedFilters = async (): Promise<number> => {
      const text = (await get(server, '/metrics', metricsHeaders)).body.toString();
      const line = text.split('\n').find((l) => l.startsWith('tandem_refused_total{reason="subscribe-filter"} '));
      return Number(line?.split(' ')[1]);
    };
    const text = (await get(server, '/metrics', metricsHeaders)).body.toString();
    for (const name of [
      'tandem_clients_connected',
      'tandem_rooms_active',
      'tandem_messages_relayed_total',
      'tandem_refused_total',
      'tandem_connections_closed_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(await refusedFilters()).toBe(0);

    const room = newRoomId();
    expect(await subscribeRefused(await connectPeer(server, room, newPeerId()), '#')).toBeNull();
    expect(await refusedFilters()).toBe(1);
    const client = await connectPeer(server, room, newPeerId());

    // The gauges follow the broker: one client connected, one room once it is admitted.
    await subscribeGranted(client, roomFilters(room));
    const after = (await get(server, '/metrics', metricsHeaders)).body.toString();
    expect(after).toMatch(/^tandem_clients_connected 1$/m);
    expect(after).toMatch(/^tandem_rooms_active 1$/m);
  });

  it('GET /mqtt without a WebSocket upgrade answers 426', async () => {
    const server = await startTestServer();
    expect((await get(server, '/mqtt')).status).toBe(426);
  });
});

describe('the built app', () => {
  it.each(['/', '/call', '/call/somewhere/deep'])('GET %s serves index.html, revalidated on every load', async (path) => {
    const server = await startTestServer();
    const res = await get(server, path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body.toString()).toBe(INDEX_HTML);
  });

  it('serves /assets/ as immutable for a year, with its content type', async () => {
    const server = await startTestServer();
    const res = await get(server, '/assets/x.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it.each([
    ['/sw.js', 'text/javascript; charset=utf-8'],
    ['/manifest.webmanifest', 'application/manifest+json; charset=utf-8'],
  ])('serves %s revalidated (no-cache) so updates reach installed apps', async (path, type) => {
    const server = await startTestServer();
    const res = await get(server, path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('gzips text when the browser accepts it, and only then', async () => {
    const server = await startTestServer();
    const plain = await get(server, '/assets/x.js');
    const zipped = await get(server, '/assets/x.js', { 'Accept-Encoding': 'br, gzip' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(zipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    const refused = await get(server, '/assets/x.js', { 'Accept-Encoding': 'gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const server = await startTestServer();
    const first = await get(server, '/sw.js');
    const again = await get(server, '/sw.js', { 'If-None-Match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('answers 404 for a missing file with an extension (no SPA fallback for files)', async () => {
    const server = await startTestServer();
    const res = await get(server, '/assets/missing.js');
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain('<!doctype html>');
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const server = await startTestServer();
    const head = await get(server, '/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect((await get(server, '/', {}, 'POST')).status).toBe(405);
  });

  it.each([
    '/..%2fsecret.txt',
    '/..%2f..%2fetc/passwd',
    '/../secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/.env',
  ])('does not serve anything outside dist/ for %s', async (path) => {
    const server = await startTestServer();
    const res = await get(server, path);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body.toString()).not.toContain('TOP-SECRET');
    expect(res.body.toString()).not.toContain('root:');
  });

  it('answers 503 with what to do when the app has not been built', async () => {
    const server = await startTestServer({ distDir: await makeDist({ withIndex: false }) });
    for (const path of ['/', '/call']) {
      const res = await get(server, path);
      expect(res.status).toBe(503);
      expect(res.body.toString()).toBe('Build the app first: npm run build');
    }
  });
});
