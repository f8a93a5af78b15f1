/**
 * GET /api/ice against the real server process (broker/main.ts) and real
 * mqtt.js clients: who gets a TURN credential, and that a real coturn sharing
 * the secret accepts it.
 *
 * Every request here goes through node:http with an explicit source address
 * (`localAddress`): all of 127.0.0.0/8 is this machine on Linux, so a second
 * "client address" is one option away, with no proxy in between.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newPeerId } from '../helpers/peers';
import { issueTurnCredential } from '../../broker/turn';
import { findTurnutils } from '../helpers/binaries';
import { type Coturn, runUclient, startCoturn } from '../helpers/coturn';
import { roomFilters } from '../../protocol/index';
import { metric, pollUntil } from '../helpers/hostile';
import { subscribeGranted } from '../helpers/broker';
import { closePeers, connectAt, joinAt, testRoom, type TestPeer } from '../helpers/mqtt-peer';
import { startServer, type ServerProcess } from '../helpers/server';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: unknown;
}

/** Every response body this file saw, to check for the secret at the end. */
const bodies: string[] = [];

function getFrom(server: ServerProcess, path: string, localAddress = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        bodies.push(text);
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: left null, the assertions will say so
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const iceFor = (server: ServerProcess, peer: TestPeer, from?: string): Promise<Reply> =>
  getFrom(server, `/api/ice?client=${encodeURIComponent(peer.client.options.clientId ?? '')}`, from);

interface IceAnswer {
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
  expiresAt: number | null;
}

function turnEntry(reply: Reply): { urls: string[]; username: string; credential: string } {
  const entry = (reply.body as IceAnswer).iceServers.find((s) => s.credential !== undefined);
  if (!entry?.username || !entry.credential) throw new Error(`no TURN entry in ${reply.text}`);
  return { urls: entry.urls, username: entry.username, credential: entry.credential };
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

afterEach(closePeers);

describe('GET /api/ice', () => {
  const secret = randomBytes(24).toString('hex');
  const turnUrls = ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'];
  const stunUrls = ['stun:stun.example.org:3478'];
  let server: ServerProcess;
  const url = (): string => `ws://127.0.0.1:${server.port}/mqtt`;

  beforeAll(async () => {
    server = await startServer({
      TURN_URLS: turnUrls.join(','),
      TURN_SECRET: secret,
      TURN_TTL: '600',
      STUN_URLS: stunUrls.join(','),
      ICE_RATE_LIMIT: '10',
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('GET /config.json lists the STUN servers only, uncached, and says a relay exists', async () => {
    const res = await getFrom(server, '/config.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ brokerUrl: null, iceServers: [{ urls: stunUrls }], relay: true, vapidPublicKey: expect.any(String) });
  });

  it('answers 403 not-in-call for a missing, malformed or unknown clientId', async () => {
    const room = await testRoom();
    for (const path of ['/api/ice', '/api/ice?client=', '/api/ice?client=not-a-client-id', `/api/ice?client=${room.room}.${newPeerId()}`]) {
      const res = await getFrom(server, path);
      expect(res.status, path).toBe(403);
      expect(res.body).toEqual({ error: 'not-in-call' });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('answers 403 to a client that is connected but not admitted to its room', async () => {
    const connected = await connectAt(url(), await testRoom(), newPeerId());
    const res = await iceFor(server, connected);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'not-in-call' });
  });

  it('gives an admitted client STUN plus one TURN entry with a credential that expires after TURN_TTL', async () => {
    const peer = await joinAt(url(), await testRoom(), newPeerId());
    expect(peer.granted).toEqual([1, 1]);
    const before = Date.now();
    const res = await iceFor(server, peer);
    expect(res.status, res.text).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);

    const body = res.body as IceAnswer;
    expect(body.iceServers).toHaveLength(2);
    expect(body.iceServers[0]).toEqual({ urls: stunUrls });
    const turn = turnEntry(res);
    expect(turn.urls).toEqual(turnUrls);
    const [expiry, id] = turn.username.split(':');
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(body.expiresAt).toBe(Number(expiry) * 1000);
    expect(body.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect(body.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    // coturn's REST-API check, recomputed here independently of broker/turn.ts.
    expect(turn.credential).toBe(createHmac('sha1', secret).update(turn.username).digest('base64'));
  });

  it('refuses the same admitted clientId when asked from another address', async () => {
    const peer = await joinAt(url(), await testRoom(), newPeerId());
    const res = await iceFor(server, peer, '127.0.0.2');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'not-in-call' });
  });

  it('refuses a client once it has left the call', async () => {
    const room = await testRoom();
    const leaving = await joinAt(url(), room, newPeerId());
    const staying = await joinAt(url(), room, newPeerId());
    expect((await iceFor(server, leaving)).status).toBe(200);
    // The broker clears a departed peer's presence after it dropped the
    // connection from its tables: that delivery is the event to wait for.
    const cleared = staying.next({ from: leaving.peer, kind: 'presence', empty: true });
    await leaving.end();
    await cleared;
    expect((await iceFor(server, leaving)).status).toBe(403);
  });

  it('rate-limits per address with 429 and Retry-After, leaving other addresses alone', async () => {
    const from = '127.0.0.3';
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await getFrom(server, '/api/ice?client=x', from)).status);
    expect(statuses).toEqual(Array(10).fill(403));

    const limited = await getFrom(server, '/api/ice?client=x', from);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: 'rate-limited' });
    expect(limited.headers['cache-control']).toBe('no-store');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    const peer = await joinAt(url(), await testRoom(), newPeerId());
    expect((await iceFor(server, peer)).status).toBe(200);
  });

  it('never puts the secret in a response or a log line, nor a query string in the log', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const text of bodies) expect(text).not.toContain(secret);
    const out = server.output();
    expect(out).toContain('"msg":"ice request refused"');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('/api/ice?');
    expect(out).not.toContain('client=');
  });
});

// Locally a missing coturn skips (with a printed reason); in CI it throws here.
const bins = findTurnutils();

describe.skipIf(bins === null)('a credential from GET /api/ice against a real coturn', { timeout: 40_000 }, () => {
  const uclient = bins?.uclient ?? '';
  let turn: Coturn;
  let server: ServerProcess;
  const issued: string[] = [];

  beforeAll(async () => {
    turn = await startCoturn({ allowLoopbackPeers: true });
    server = await startServer({ TURN_URLS: `${turn.url('udp')},${turn.url('tcp')}`, TURN_SECRET: turn.secret, TURN_TTL: '300' });
  });
  afterAll(async () => {
    await server?.stop();
    await turn?.stop();
  });

  async function credentialForCaller(): Promise<{ username: string; credential: string }> {
    const peer = await joinAt(`ws://127.0.0.1:${server.port}/mqtt`, await testRoom(), newPeerId());
    const res = await iceFor(server, peer);
    expect(res.status, res.text).toBe(200);
    const entry = turnEntry(res);
    expect(entry.urls).toEqual([turn.url('udp'), turn.url('tcp')]);
    issued.push(entry.credential);
    return entry;
  }

  function uclientArgs(username: string, credential: string, messages: number): string[] {
    // -y: two allocations relay to each other; -c: no RTCP allocation; see tests/broker/turn.test.ts.
    return ['-y', '-c', '-n', String(messages), '-p', String(turn.port), '-u', username, '-w', credential, '127.0.0.1'];
  }

  it('allocates and relays with it', async () => {
    const { username, credential } = await credentialForCaller();
    const result = await runUclient(uclient, uclientArgs(username, credential, 2));
    expect(result.timedOut, result.output).toBe(false);
    expect(result.code, result.output).toBe(0);
    await turn.waitForLog(new RegExp(`user <${escapeRegExp(username)}>: incoming packet ALLOCATE processed, success`));
  });

  it('is refused (401) once its expiry has passed, and a username whose expiry was pushed out is refused too', async () => {
    const expired = issueTurnCredential({ secret: turn.secret, ttlSeconds: 60, now: Date.now() - 120_000 });
    const { username, credential } = await credentialForCaller();
    // A caller who rewrites the expiry to keep the credential alive longer: the HMAC no longer matches.
    const [expiry, id] = username.split(':');
    const stretched = `${Number(expiry) + 86_400}:${id}`;
    for (const [name, pass] of [[expired.username, expired.credential], [stretched, credential]] as const) {
      const result = await runUclient(uclient, uclientArgs(name, pass, 1));
      expect(result.timedOut, result.output).toBe(false);
      expect(result.code, result.output).not.toBe(0);
      expect(result.output).toContain('Cannot complete Allocation');
      await turn.waitForLog(new RegExp(`user <${escapeRegExp(name)}>: incoming packet message processed, error 401`));
    }
  });

  it('never logs the secret or a credential', () => {
    expect(issued.length).toBeGreaterThan(0);
    const out = server.output();
    expect(out).not.toContain(turn.secret);
    for (const credential of issued) expect(out).not.toContain(credential);
  });
});

// Its own server: the file above spends 127.0.0.1's ICE_RATE_LIMIT on purpose.
describe('GET /api/ice?wait=1 (sent with the SUBSCRIBE)', () => {
  const turnUrls = ['turn:127.0.0.1:3478?transport=udp'];
  let server: ServerProcess;
  const url = (): string => `ws://127.0.0.1:${server.port}/mqtt`;

  beforeAll(async () => {
    server = await startServer({ TURN_URLS: turnUrls.join(','), TURN_SECRET: randomBytes(24).toString('hex') });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('wait=1: a request that set off before the SUBSCRIBE is held, then answered with TURN the moment the room admits the client', async () => {
    const peer = await connectAt(url(), await testRoom(), newPeerId());
    const id = encodeURIComponent(peer.client.options.clientId ?? '');
    const held = getFrom(server, `/api/ice?client=${id}&wait=1`);
    // The server holds it (its gauge says so) while the client is connected but not admitted.
    await pollUntil(async () => (await metric(server.url, 'tandem_ice_admission_waits')) === 1);
    peer.granted = await subscribeGranted(peer.client, roomFilters(peer.room));
    expect(peer.granted).toEqual([1, 1]);
    const res = await held;
    expect(res.status, res.text).toBe(200);
    expect(turnEntry(res).urls).toEqual(turnUrls);
    expect(await metric(server.url, 'tandem_ice_admission_waits')).toBe(0);
  });

  it('wait=1 waits only for a connection on this server from the same address; anyone else gets 403 at once', async () => {
    const peer = await connectAt(url(), await testRoom(), newPeerId());
    const id = encodeURIComponent(peer.client.options.clientId ?? '');
    const started = Date.now();
    // Another address, and a clientId connected nowhere here (in a cluster without affinity its
    // SUBSCRIBE goes to another process: waiting would only delay the call by the 5 s timeout).
    const elsewhere = await getFrom(server, `/api/ice?client=${id}&wait=1`, '127.0.0.2');
    const stranger = await getFrom(server, `/api/ice?client=${id.slice(0, -2)}xx&wait=1`, '127.0.0.3');
    expect([elsewhere.status, stranger.status]).toEqual([403, 403]);
    expect(stranger.body).toEqual({ error: 'not-in-call' });
    expect(Date.now() - started).toBeLessThan(2_000); // not held for the 5 s wait
    expect(await metric(server.url, 'tandem_ice_admission_waits')).toBe(0);
  });
});
