/**
 * HTTPS as a person would run it: `npm run cert` into a temp dir, then the
 * real server process with TLS_CERT/TLS_KEY/HTTP_REDIRECT_PORT. The app over
 * https, MQTT over wss on the same port, and the plain-HTTP port redirecting.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newPeerId } from '../helpers/peers';
import { hostOf, redirectTarget } from '../../broker/http-redirect';
import { requireBinary } from '../helpers/binaries';
import { closePeers, joinAt, testRoom } from '../helpers/mqtt-peer';
import { REPO, freePort, startServer, type ServerProcess } from '../helpers/server';

describe('redirect targets', () => {
  it.each([
    ['example.org', 'example.org'],
    ['Example.ORG:8080', 'example.org'],
    ['192.168.1.20:80', '192.168.1.20'],
    ['[::1]:8080', '[::1]'],
    ['[2001:db8::1]', '[2001:db8::1]'],
  ])('takes the host of %s', (header, host) => {
    expect(hostOf(header)).toBe(host);
  });

  it.each([
    undefined,
    '',
    'evil.example/path',
    'a b',
    'user@example.org',
    'example.org:80:80',
    'example.org:http',
    '[not-ipv6]:80',
    '[::1',
    '-bad.example',
    `${'a'.repeat(64)}.example`,
    `${'a.'.repeat(140)}org`,
  ])('refuses Host %j', (header) => {
    expect(hostOf(header)).toBeNull();
  });

  it('keeps path and query, and leaves out :443', () => {
    const req = (url: string, host = 'example.org:80') => ({ url, headers: { host } }) as unknown as IncomingMessage;
    expect(redirectTarget(req('/call/x?y=1#z'), 8443)).toBe('https://example.org:8443/call/x?y=1#z');
    expect(redirectTarget(req('/'), 443)).toBe('https://example.org/');
    // Absolute-form or non-ASCII targets are not echoed into a Location.
    expect(redirectTarget(req('http://evil.example/'), 443)).toBeNull();
    expect(redirectTarget(req('/caf\u00e9'), 443)).toBeNull();
  });
});

const openssl = requireBinary('openssl', { aptPackage: 'openssl' });

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  /** Whether the response came over TLS, and with which certificate. */
  tls: { authorized: boolean; fingerprint256: string } | null;
}

function collect(res: IncomingMessage, resolve: (r: Reply) => void): void {
  // Read now: once the body has ended, the socket may already be detached.
  const socket = res.socket as TLSSocket;
  const tls = socket.encrypted ? { authorized: socket.authorized, fingerprint256: socket.getPeerCertificate().fingerprint256 } : null;
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, tls }));
}

describe.skipIf(openssl === null)('HTTPS with a certificate from npm run cert', () => {
  let dir: string;
  let ca: Buffer;
  let server: ServerProcess;
  let redirectPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-https-'));
    const cert = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cert.ts', '--out', dir], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect(cert.status, cert.stderr).toBe(0);
    ca = readFileSync(join(dir, 'cert.pem'));
    redirectPort = await freePort();
    server = await startServer(
      { TLS_CERT: join(dir, 'cert.pem'), TLS_KEY: join(dir, 'key.pem'), HTTP_REDIRECT_PORT: String(redirectPort) },
      undefined,
      { ca },
    );
  });
  afterEach(closePeers);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function httpsGet(path: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      // A fresh agent per call: no pooled socket from a previous test.
      const req = httpsRequest({ host: '127.0.0.1', port: server.port, path, agent: new Agent({ ca }) }, (res) => collect(res, resolve));
      req.on('error', reject);
      req.end();
    });
  }

  function plainGet(port: number, path: string, host: string | null, method = 'GET'): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method, setHost: host === null }, (res) => collect(res, resolve));
      if (host !== null) req.setHeader('Host', host);
      req.on('error', reject);
      req.end();
    });
  }

  it('serves /healthz over TLS with the generated certificate', async () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    const res = await httpsGet('/healthz');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
    expect(res.tls?.authorized).toBe(true);
    expect(res.tls?.fingerprint256).toBe(new X509Certificate(ca).fingerprint256);
  });

  it('refuses a client that does not trust the certificate', async () => {
    const failed = await new Promise<Error>((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port: server.port, path: '/healthz', agent: new Agent() }, () => resolve(new Error('answered')));
      req.on('error', resolve);
      req.end();
    });
    expect((failed as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
  });

  it('speaks MQTT over wss on the same port, and a caller gets /api/ice over https', async () => {
    const peer = await joinAt(`wss://127.0.0.1:${server.port}/mqtt`, await testRoom(), newPeerId(), { ca });
    expect(peer.granted).toEqual([1, 1]);
    const res = await httpsGet(`/api/ice?client=${encodeURIComponent(peer.client.options.clientId ?? '')}`);
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ iceServers: [], expiresAt: null, ttl: null });
  });

  it('redirects every plain-HTTP request to https with path and query, host from Host', async () => {
    const res = await plainGet(redirectPort, '/call/room?x=1&y=%20', `127.0.0.1:${redirectPort}`);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`https://127.0.0.1:${server.port}/call/room?x=1&y=%20`);
    expect(res.tls).toBeNull();

    const byName = await plainGet(redirectPort, '/', 'localhost');
    expect(byName.headers.location).toBe(`https://localhost:${server.port}/`);
    const post = await plainGet(redirectPort, '/api/ice', `127.0.0.1:${redirectPort}`, 'POST');
    expect(post.status).toBe(301);

    // The redirect target is reachable and is the app's server.
    const followed = await httpsGet(new URL(res.headers.location ?? '').pathname.replace('/call/room', '/healthz'));
    expect(followed.status).toBe(200);
  });

  it('answers 400 instead of redirecting to an absurd Host', async () => {
    for (const host of ['evil.example/path', 'a'.repeat(300), 'x y']) {
      const res = await plainGet(redirectPort, '/', host);
      expect(res.status, host).toBe(400);
      expect(res.headers.location).toBeUndefined();
    }
  });
});

describe('TLS settings that cannot work', () => {
  it('stops the server with status 2, naming the variable, when a certificate path is unreadable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'broker/main.ts'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, PORT: '0', TLS_CERT: '/nonexistent/cert.pem', TLS_KEY: '/nonexistent/key.pem' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Invalid TLS_CERT: cannot read /nonexistent/cert.pem (ENOENT)');
  });
});
