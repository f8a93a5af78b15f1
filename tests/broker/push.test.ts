/**
 * POST /api/push against the real server process (broker/main.ts), relaying
 * to a local RFC 8030 endpoint (tests/helpers/push-service.ts) whose checks
 * share no code with the server's `web-push`: the body is decrypted with the
 * subscription's private key (RFC 8291) and the VAPID JWT verified (RFC 8292).
 *
 * Requests go through node:http with an explicit source address where a test
 * needs a client address of its own (all of 127.0.0.0/8 is this machine).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from '../helpers/hostile';
import { post, pushBody, send, type PushBody, type Reply } from '../helpers/push-requests';
import { decryptPush, newSubscription, startPushService, verifyVapid, type PushService, type TestSubscription } from '../helpers/push-service';
import { startServer, type ServerProcess } from '../helpers/server';
import { waitFor } from '../helpers/wait';

const SUBJECT = 'mailto:push-tests@tandem.example';

let service: PushService;
/** A second local endpoint, on a port the server is not told about. */
let unlisted: PushService;
let server: ServerProcess;
let vapidPublicKey: string;
/** Everything secret this file sent, to look for in the server's output at the end. */
const secrets: string[] = [];

/** A fresh endpoint path on the local push service, so tests don't share a per-endpoint budget. */
function endpoint(prefix = '/push/', on: PushService = service): string {
  const url = `${on.origin}${prefix}${randomBytes(12).toString('base64url')}`;
  secrets.push(url, new URL(url).pathname.slice(prefix.length));
  return url;
}

function newPayload(bytes = 200): Buffer {
  const payload = randomBytes(bytes);
  secrets.push(payload.toString('base64url'));
  return payload;
}

function subscription(): TestSubscription {
  const sub = newSubscription();
  secrets.push(sub.p256dh, sub.auth);
  return sub;
}

beforeAll(async () => {
  service = await startPushService();
  unlisted = await startPushService();
  server = await startServer({
    PUSH_ENDPOINT_HOSTS: `127.0.0.1:${service.port},fcm.googleapis.com,*.push.apple.com`,
    VAPID_SUBJECT: SUBJECT,
    PUSH_TIMEOUT_MS: '500',
  });
  vapidPublicKey = ((await (await fetch(`${server.url}/config.json`)).json()) as { vapidPublicKey: string }).vapidPublicKey;
});

afterAll(async () => {
  await server?.stop();
  await service?.close();
  await unlisted?.close();
});

describe('relaying a push', () => {
  it('encrypts the payload to the subscription and signs with VAPID; the endpoint gets exactly the payload', async () => {
    const sub = subscription();
    const payload = newPayload(3072);
    const url = endpoint();
    const started = Math.floor(Date.now() / 1000);
    const arrived = waitFor<[{ path: string; headers: Record<string, string>; body: Buffer }]>(service.events, 'push');
    const reply = await post(server, pushBody(url, sub, payload, { ttl: 45, topic: 'ring-0123456789_ABCDEF' }));
    expect(reply).toMatchObject({ status: 202, body: { ok: true } });

    const [push] = await arrived;
    expect(push.path).toBe(new URL(url).pathname);
    expect(push.headers).toMatchObject({ ttl: '45', urgency: 'high', topic: 'ring-0123456789_ABCDEF', 'content-encoding': 'aes128gcm' });
    expect(decryptPush(push.body, sub).equals(payload)).toBe(true);

    const claims = verifyVapid(push.headers.authorization, vapidPublicKey);
    expect(claims.aud).toBe(service.origin);
    expect(claims.sub).toBe(SUBJECT);
    expect(claims.exp).toBeGreaterThan(started);
    expect(claims.exp).toBeLessThanOrEqual(started + 24 * 3600);
  });

  it.each([
    [undefined, '30'],
    [600, '60'],
    [-5, '0'],
    [12.7, '12'],
  ])('sends ttl %s as TTL: %s', async (ttl, header) => {
    const arrived = waitFor<[{ headers: Record<string, string> }]>(service.events, 'push');
    const reply = await post(server, pushBody(endpoint(), subscription(), newPayload(), ttl === undefined ? {} : { ttl }));
    expect(reply.status).toBe(202);
    const [push] = await arrived;
    expect(push.headers.ttl).toBe(header);
    expect(push.headers.topic).toBeUndefined();
  });

  it.each([
    ['/gone/', 410],
    ['/missing/', 404],
  ])('answers 410 gone when the push service says %s (%i)', async (prefix) => {
    const reply = await post(server, pushBody(endpoint(prefix), subscription(), newPayload()));
    expect(reply).toMatchObject({ status: 410, body: { error: 'gone' } });
  });

  it('answers 502 when the push service fails, with its status', async () => {
    const reply = await post(server, pushBody(endpoint('/fail/'), subscription(), newPayload()));
    expect(reply).toMatchObject({ status: 502, body: { error: 'push failed', status: 500 } });
  });

  it('answers 502 when the push service does not answer within PUSH_TIMEOUT_MS', async () => {
    const arrived = waitFor(service.events, 'push');
    const reply = await post(server, pushBody(endpoint('/hang/'), subscription(), newPayload()));
    await arrived;
    expect(reply).toMatchObject({ status: 502, body: { error: 'push failed' } });
    expect(reply.body).not.toHaveProperty('status');
  });

  it('answers 502 when nothing listens at the endpoint', async () => {
    const closed = await startPushService();
    const url = `${closed.origin}/push/x`;
    await closed.close();
    const local = await startServer({ PUSH_ENDPOINT_HOSTS: `127.0.0.1:${closed.port}` });
    try {
      const reply = await post(local, pushBody(url, subscription(), newPayload()));
      expect(reply).toMatchObject({ status: 502, body: { error: 'push failed' } });
    } finally {
      await local.stop();
    }
  });
});

describe('endpoints that are not a known push service', () => {
  it.each([
    ['http on a host not listed', () => `http://127.0.0.2:${service.port}/push/a`],
    ['localhost when only 127.0.0.1 is listed', () => `http://localhost:${service.port}/push/a`],
    ['a listed loopback host on another port', () => `http://127.0.0.1:${unlisted.port}/push/a`],
    ['userinfo', () => `http://user:pass@127.0.0.1:${service.port}/push/a`],
    ['userinfo without a password', () => `http://user@127.0.0.1:${service.port}/push/a`],
    ['cloud metadata', () => 'https://169.254.169.254/latest/meta-data/'],
    ['an IP literal', () => 'https://10.0.0.1/push'],
    ['an IPv6 literal', () => 'https://[::1]/push'],
    ['a listed host on another port', () => 'https://fcm.googleapis.com:8443/fcm/send/x'],
    ['plain http to a listed host', () => 'http://fcm.googleapis.com/fcm/send/x'],
    ['a listed host as a prefix', () => 'https://fcm.googleapis.com.evil.example/fcm/send/x'],
    ['a listed host as a suffix', () => 'https://evilfcm.googleapis.com/fcm/send/x'],
    ['a subdomain of a host listed without *.', () => 'https://x.fcm.googleapis.com/fcm/send/x'],
    ['a suffix of a *. rule', () => 'https://evilpush.apple.com/x'],
    ['a trailing dot', () => 'https://fcm.googleapis.com./fcm/send/x'],
    ['another scheme', () => 'ftp://fcm.googleapis.com/x'],
    ['not a URL', () => 'fcm.googleapis.com/fcm/send/x'],
  ])('refuses %s with 403, and nothing is sent', async (_what, url) => {
    const before = service.received.length + unlisted.received.length;
    const reply = await post(server, pushBody(url(), subscription(), newPayload()));
    expect(reply).toMatchObject({ status: 403, body: { error: 'endpoint not allowed' } });
    expect(service.received.length + unlisted.received.length).toBe(before);
  });
});

describe('requests that are not a push', () => {
  const valid = (): PushBody => pushBody(endpoint(), subscription(), newPayload());
  const otherPoint = (): string => {
    const key = Buffer.from(subscription().p256dh, 'base64url');
    key[64] = key[64]! ^ 1;
    return key.toString('base64url');
  };

  it.each<[string, () => string | Buffer, RegExp]>([
    ['not JSON', () => '{"subscription":', /not JSON/],
    ['not UTF-8 JSON', () => Buffer.from([0xff, 0xfe, 0x7b]), /not JSON/],
    ['a JSON array', () => '[]', /JSON object/],
    ['no subscription', () => JSON.stringify({ payload: 'AAAA' }), /subscription must be an object/],
    ['an endpoint that is not a string', () => JSON.stringify({ ...valid(), subscription: { endpoint: 7, keys: valid().subscription.keys } }), /endpoint/],
    ['no keys', () => JSON.stringify({ ...valid(), subscription: { endpoint: endpoint() } }), /keys must be an object/],
    ['a p256dh off the curve', () => JSON.stringify(withKeys({ p256dh: otherPoint() })), /p256dh/],
    ['a p256dh of 64 bytes', () => JSON.stringify(withKeys({ p256dh: randomBytes(64).toString('base64url') })), /p256dh/],
    ['a p256dh in base64 with + and /', () => JSON.stringify(withKeys({ p256dh: '+/+/' })), /p256dh/],
    ['an auth of 12 bytes', () => JSON.stringify(withKeys({ auth: randomBytes(12).toString('base64url') })), /auth/],
    ['no payload', () => JSON.stringify({ ...valid(), payload: undefined }), /payload/],
    ['an empty payload', () => JSON.stringify({ ...valid(), payload: '' }), /payload/],
    ['a payload of 3073 bytes', () => JSON.stringify({ ...valid(), payload: randomBytes(3073).toString('base64url') }), /payload/],
    ['a payload that is not base64url', () => JSON.stringify({ ...valid(), payload: 'a b c' }), /payload/],
    ['a ttl that is a string', () => JSON.stringify({ ...valid(), ttl: '30' }), /ttl/],
    ['a topic of 33 characters', () => JSON.stringify({ ...valid(), topic: 'a'.repeat(33) }), /topic/],
    ['a topic with a header break', () => JSON.stringify({ ...valid(), topic: 'ring\r\nX-Evil: 1' }), /topic/],
  ])('refuses %s with 400 and says what is wrong', async (_what, body, detail) => {
    const before = service.received.length;
    const reply = await send(server, body());
    expect(reply.status).toBe(400);
    expect(reply.body?.error).toMatch(detail);
    expect(service.received.length).toBe(before);
  });

  function withKeys(keys: Partial<PushBody['subscription']['keys']>): PushBody {
    const body = valid();
    return { ...body, subscription: { ...body.subscription, keys: { ...body.subscription.keys, ...keys } } };
  }

  it('answers 405 with Allow: POST to other methods', async () => {
    for (const method of ['GET', 'PUT', 'OPTIONS']) {
      const reply = await send(server, '', { method });
      expect(reply.status).toBe(405);
      expect(reply.headers.allow).toBe('POST');
    }
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'answers 415 to Content-Type %s, the types a page on another site can send without a preflight',
    async (contentType) => {
      const reply = await send(server, JSON.stringify(valid()), { contentType });
      expect(reply).toMatchObject({ status: 415, body: { error: 'expected application/json' } });
    },
  );

  it('takes application/json with a charset', async () => {
    const reply = await send(server, JSON.stringify(valid()), { contentType: 'application/json; charset=utf-8' });
    expect(reply.status).toBe(202);
  });

  it('refuses a body over 8 KiB with 413 before reading it, declared or streamed, and keeps serving', async () => {
    const declared = await oversize(server, true);
    expect(declared).toMatchObject({ status: 413, body: { error: 'too large' } });
    const streamed = await oversize(server, false);
    expect(streamed).toMatchObject({ status: 413, body: { error: 'too large' } });
    expect((await post(server, valid())).status).toBe(202);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

/**
 * Starts a POST that would be 1 MiB and sends only its first 9 KiB, then
 * waits for the answer: the server must answer without the rest.
 * `declared`: with Content-Length: 1 MiB; else chunked, without one.
 */
function oversize(target: ServerProcess, declared: boolean): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: '/api/push',
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(declared ? { 'Content-Length': String(1024 * 1024) } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    // The server closes the socket after its answer; writes still in flight may fail then.
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.write(`{"payload":"${'A'.repeat(9 * 1024)}`);
  });
}

describe('whatever the body holds', () => {
  /** Values that break naive parsers: wrong types, huge and odd strings, prototype keys. */
  const oddValues: unknown[] = [
    null, true, 0, -1, 1e309, 'x', '', '\u0000', '\ud800', 'é'.repeat(300), [], [1, 2], {}, { __proto__: { p256dh: 'x' } },
    { constructor: { prototype: { polluted: true } } }, 'A'.repeat(5000), '=', '==', 'a=b', '%00', 'http://127.0.0.1:1/',
  ];

  it('answers every odd value in every field with a 4xx (or 202 where it is still valid), and keeps serving', async () => {
    const sub = subscription();
    const base = (): PushBody => pushBody(endpoint(), sub, newPayload(16));
    /** Each field of a valid body replaced by `odd`; slot 0 is the whole body. */
    const mangle = (slot: number, odd: unknown): unknown => {
      const body = base();
      const { subscription: s0 } = body;
      switch (slot) {
        case 0: return odd;
        case 1: return { ...body, subscription: odd };
        case 2: return { ...body, subscription: { ...s0, endpoint: odd } };
        case 3: return { ...body, subscription: { ...s0, keys: odd } };
        case 4: return { ...body, subscription: { ...s0, keys: { ...s0.keys, p256dh: odd } } };
        case 5: return { ...body, subscription: { ...s0, keys: { ...s0.keys, auth: odd } } };
        case 6: return { ...body, payload: odd };
        case 7: return { ...body, ttl: odd };
        default: return { ...body, topic: odd };
      }
    };
    const statuses = new Set<number>();
    let n = 0;
    for (let slot = 0; slot <= 8; slot += 1) {
      for (const odd of oddValues) {
        // 100 per address, under the per-address limit.
        const reply = await post(server, mangle(slot, odd), { localAddress: `127.0.1.${1 + Math.floor(n / 100)}` });
        n += 1;
        statuses.add(reply.status);
        expect([202, 400, 403, 413], `slot ${slot}, ${JSON.stringify(odd)?.slice(0, 40)}`).toContain(reply.status);
        if (reply.status !== 202) expect(typeof reply.body?.error).toBe('string');
      }
    }
    expect(statuses).toContain(400);
    expect(statuses).toContain(403);
    expect((await post(server, base())).status).toBe(202);
  });
});

describe('rate limits', () => {
  it('allows 12 pushes a minute to one endpoint, then 429 with Retry-After', async () => {
    const url = endpoint();
    const sub = subscription();
    for (let i = 0; i < 12; i += 1) expect((await post(server, pushBody(url, sub, newPayload()))).status).toBe(202);
    const limited = await post(server, pushBody(url, sub, newPayload()));
    expect(limited).toMatchObject({ status: 429, body: { error: 'rate-limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another endpoint from the same address is not affected.
    expect((await post(server, pushBody(endpoint(), sub, newPayload()))).status).toBe(202);
  });

  it('allows 120 requests a minute from one address, then 429, and other addresses go on', async () => {
    const from = '127.0.0.77';
    for (let i = 0; i < 120; i += 1) expect((await send(server, 'garbage', { localAddress: from })).status).toBe(400);
    const limited = await post(server, pushBody(endpoint(), subscription(), newPayload()), { localAddress: from });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await post(server, pushBody(endpoint(), subscription(), newPayload()), { localAddress: '127.0.0.78' })).status).toBe(202);
  });
});

describe('VAPID keys without VAPID_* in the environment', () => {
  it('generates them into DATA_DIR once (mode 0600) and signs with the same key after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-push-'));
    const env = { VAPID_PUBLIC_KEY: '', VAPID_PRIVATE_KEY: '', DATA_DIR: join(dir, 'data'), PUSH_ENDPOINT_HOSTS: `127.0.0.1:${service.port}` };
    const keyOf = async (s: ServerProcess): Promise<string> =>
      ((await (await fetch(`${s.url}/config.json`)).json()) as { vapidPublicKey: string }).vapidPublicKey;
    try {
      const first = await startServer(env);
      const key = await keyOf(first);
      await first.stop();
      expect(key).not.toBe(vapidPublicKey);
      expect((await stat(join(dir, 'data', 'vapid.json'))).mode & 0o777).toBe(0o600);

      const second = await startServer(env);
      try {
        expect(await keyOf(second)).toBe(key);
        const sub = subscription();
        const payload = newPayload();
        const arrived = waitFor<[{ headers: Record<string, string>; body: Buffer }]>(service.events, 'push');
        expect((await post(second, pushBody(endpoint(), sub, payload))).status).toBe(202);
        const [push] = await arrived;
        verifyVapid(push.headers.authorization, key);
        expect(decryptPush(push.body, sub).equals(payload)).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('what the operator sees', () => {
  it('counts pushes by result', async () => {
    expect(await metric(server.url, 'tandem_push_total', { result: 'accepted' })).toBeGreaterThan(0);
    expect(await metric(server.url, 'tandem_push_total', { result: 'gone' })).toBe(2);
    expect(await metric(server.url, 'tandem_push_total', { result: 'refused' })).toBeGreaterThan(0);
    expect(await metric(server.url, 'tandem_push_total', { result: 'failed' })).toBe(2);
    expect(await metric(server.url, 'tandem_push_total', { result: 'limited' })).toBe(2);
  });

  it('logs endpoints as host and keyed hash, never an endpoint, a key or a payload', () => {
    const output = server.output();
    // The relay did log its pushes (so the absence below means something), with the host and a hash.
    expect(output).toContain(`"endpoint":"127.0.0.1:${service.port} r:`);
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toContain('/push/');
  });
});
