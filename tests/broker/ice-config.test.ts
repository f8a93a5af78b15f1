/**
 * The TURN/STUN/TLS settings (broker/config.ts) and the log redaction that
 * keeps their secrets out of the log (broker/log.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../broker/config';
import { DEFAULT_STUN_URLS } from '../../broker/ice';
import { createLogger } from '../../broker/log';
import { requireBinary } from '../helpers/binaries';

const SECRET = 'f3a1c9e07b2d4e6f8a0b1c2d3e4f5a6b';

describe('ICE settings', () => {
  it('defaults to Google STUN, no TURN, 30 /api/ice requests per minute', () => {
    expect(loadConfig({}).ice).toEqual({ stunUrls: [...DEFAULT_STUN_URLS], turn: null, rateLimitPerMinute: 30 });
    expect(DEFAULT_STUN_URLS).toEqual(['stun:stun.l.google.com:19302']);
  });

  it('reads STUN_URLS, TURN_URLS, TURN_SECRET, TURN_TTL and ICE_RATE_LIMIT', () => {
    const { ice } = loadConfig({
      STUN_URLS: 'stun:stun.example.org:3478, stun:[2001:db8::1]',
      TURN_URLS: 'turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349?transport=tcp',
      TURN_SECRET: SECRET,
      TURN_TTL: '900',
      ICE_RATE_LIMIT: '12',
    });
    expect(ice).toEqual({
      stunUrls: ['stun:stun.example.org:3478', 'stun:[2001:db8::1]'],
      turn: {
        urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'],
        secret: SECRET,
        ttlSeconds: 900,
        credentialsPerIp: 10,
      },
      rateLimitPerMinute: 12,
    });
  });

  it('takes an explicitly empty STUN_URLS as "no STUN" (unlike other variables, where empty = default)', () => {
    expect(loadConfig({ STUN_URLS: '' }).ice.stunUrls).toEqual([]);
    expect(loadConfig({ STUN_URLS: ' , ' }).ice.stunUrls).toEqual([]);
    expect(loadConfig({ TURN_URLS: '', TURN_SECRET: '' }).ice.turn).toBeNull();
  });

  it.each([
    [{ TURN_URLS: 'turn:turn.example.org' }, 'TURN_SECRET', /required when TURN_URLS is set/],
    [{ TURN_SECRET: SECRET }, 'TURN_URLS', /required when TURN_SECRET is set/],
    [{ TURN_URLS: 'turn:turn.example.org', TURN_SECRET: 'short-secret' }, 'TURN_SECRET', /too short/],
    [{ TURN_URLS: 'turn://turn.example.org', TURN_SECRET: SECRET }, 'TURN_URLS', /"\/\/" after the scheme/],
    [{ TURN_URLS: 'stun:stun.example.org', TURN_SECRET: SECRET }, 'TURN_URLS', /only turn: and turns:/],
    [{ STUN_URLS: 'turn:turn.example.org' }, 'STUN_URLS', /only stun:/],
    [{ STUN_URLS: 'stun.example.org' }, 'STUN_URLS', /invalid entry "stun.example.org"/],
    [{ TURN_URLS: 'turn:t.example.org', TURN_SECRET: SECRET, TURN_TTL: '5' }, 'TURN_TTL', /10\.\.86400/],
    [{ TURN_URLS: 'turn:t.example.org', TURN_SECRET: SECRET, TURN_TTL: '1h' }, 'TURN_TTL', /whole number/],
    [{ TURN_URLS: 'turn:t.example.org', TURN_SECRET: SECRET, TURN_TTL: '86401' }, 'TURN_TTL', /10\.\.86400/],
    [{ ICE_RATE_LIMIT: '0' }, 'ICE_RATE_LIMIT', /1\.\.100000/],
  ])('refuses %j, naming %s', (env, variable, detail) => {
    let error: unknown = null;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^Invalid ${variable}: `));
    expect((error as Error).message).toMatch(detail);
  });

  it('never quotes TURN_SECRET in an error', () => {
    const tooShort = 'hunter2-secret';
    expect(() => loadConfig({ TURN_URLS: 'turn:t.example.org', TURN_SECRET: tooShort })).toThrow(ConfigError);
    try {
      loadConfig({ TURN_URLS: 'turn:t.example.org', TURN_SECRET: tooShort });
    } catch (err) {
      expect((err as Error).message).not.toContain(tooShort);
    }
  });
});

const openssl = requireBinary('openssl', { aptPackage: 'openssl' });

describe.skipIf(openssl === null)('TLS settings', () => {
  let dir: string;
  const file = (name: string): string => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-tls-config-'));
    for (const name of ['a', 'b']) {
      const run = spawnSync('openssl', [
        'req', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-keyout', file(`${name}-key.pem`), '-out', file(`${name}-cert.pem`), '-days', '1', '-subj', '/CN=test',
      ], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
    }
    writeFileSync(file('garbage.pem'), 'not a pem file');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is off by default', () => {
    expect(loadConfig({})).toMatchObject({ tls: null, httpRedirectPort: null });
  });

  it('reads a matching certificate and key, and the redirect port', () => {
    const config = loadConfig({ TLS_CERT: file('a-cert.pem'), TLS_KEY: file('a-key.pem'), HTTP_REDIRECT_PORT: '8080' });
    expect(config.tls?.certPath).toBe(file('a-cert.pem'));
    expect(config.tls?.cert.equals(readFileSync(file('a-cert.pem')))).toBe(true);
    expect(config.tls?.key.equals(readFileSync(file('a-key.pem')))).toBe(true);
    expect(config.httpRedirectPort).toBe(8080);
  });

  it.each([
    [{ TLS_CERT: '/nonexistent/cert.pem', TLS_KEY: 'a-key.pem' }, 'TLS_CERT', /cannot read \/nonexistent\/cert\.pem \(ENOENT\)/],
    [{ TLS_CERT: 'a-cert.pem', TLS_KEY: '/nonexistent/key.pem' }, 'TLS_KEY', /cannot read \/nonexistent\/key\.pem \(ENOENT\)/],
    [{ TLS_CERT: 'garbage.pem', TLS_KEY: 'a-key.pem' }, 'TLS_CERT', /not a PEM certificate/],
    [{ TLS_CERT: 'a-cert.pem', TLS_KEY: 'garbage.pem' }, 'TLS_KEY', /not an unencrypted PEM private key/],
    [{ TLS_CERT: 'a-cert.pem', TLS_KEY: 'b-key.pem' }, 'TLS_KEY', /not the private key of the certificate/],
    [{ TLS_CERT: 'a-cert.pem' }, 'TLS_KEY', /required when TLS_CERT is set/],
    [{ TLS_KEY: 'a-key.pem' }, 'TLS_CERT', /required when TLS_KEY is set/],
    [{ HTTP_REDIRECT_PORT: '8080' }, 'HTTP_REDIRECT_PORT', /needs TLS_CERT and TLS_KEY/],
    [{ TLS_CERT: 'a-cert.pem', TLS_KEY: 'a-key.pem', PORT: '8443', HTTP_REDIRECT_PORT: '8443' }, 'HTTP_REDIRECT_PORT', /must differ from PORT/],
  ])('refuses %j, naming %s', (env, variable, detail) => {
    const absolute = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, k.startsWith('TLS_') && !v.startsWith('/') ? file(v) : v]),
    );
    expect(() => loadConfig(absolute)).toThrow(ConfigError);
    expect(() => loadConfig(absolute)).toThrow(new RegExp(`^Invalid ${variable}: .*${detail.source}`));
  });
});

describe('log redaction', () => {
  function capture(): { stream: Writable; lines: () => string } {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    return { stream, lines: () => text };
  }

  it('hides TURN secrets, credentials, TLS keys and auth headers wherever they are nested', () => {
    const { stream, lines } = capture();
    const logger = createLogger('info', stream);
    logger.info(
      {
        config: { ice: { turn: { urls: ['turn:t.example.org'], secret: 'S1-turn-secret' } }, tls: { key: 'S2-tls-key' } },
        answer: { iceServers: [{ urls: ['turn:t.example.org'], username: '1700000000:abc', credential: 'S3-credential' }] },
        iceServers: [{ urls: ['turn:t'], credential: 'S4-credential' }],
        turn: { secret: 'S5-secret' },
        req: { headers: { authorization: 'Basic S6', cookie: 'S7' } },
        secret: 'S8',
        password: 'S9',
      },
      'everything at once',
    );
    const out = lines();
    expect(out).toContain('everything at once');
    expect(out).toContain('turn:t.example.org');
    for (const secret of ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9']) expect(out, secret).not.toContain(secret);
  });
});
