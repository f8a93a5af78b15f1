import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import webpush from 'web-push';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PACKET_BYTES } from '../../protocol/index';
import { ConfigError, loadConfig, withVapidKeys } from '../../broker/config';

/** One real pair for the whole file, and the halves of another one. */
const KEYS = webpush.generateVAPIDKeys();
const OTHER = webpush.generateVAPIDKeys();

describe('loadConfig', () => {
  it('has safe defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'info',
      brokerUrl: null,
      maxPacketBytes: MAX_PACKET_BYTES,
      connectTimeoutMs: 5000,
    });
    expect(config.distDir).toBe(resolve(import.meta.dirname, '../../dist'));
    expect(config.push).toEqual({
      vapid: null,
      subject: 'mailto:admin@localhost',
      dataDir: resolve(import.meta.dirname, '../../data'),
      endpointHosts: [
        { host: 'fcm.googleapis.com', subdomains: false, port: null },
        { host: 'updates.push.services.mozilla.com', subdomains: false, port: null },
        { host: 'push.services.mozilla.com', subdomains: false, port: null },
        { host: 'web.push.apple.com', subdomains: false, port: null },
        { host: 'push.apple.com', subdomains: true, port: null },
        { host: 'notify.windows.com', subdomains: true, port: null },
      ],
      perEndpointPerMinute: 12,
      perIpPerMinute: 120,
      timeoutMs: 10_000,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '8080',
        HOST: '0.0.0.0',
        DIST_DIR: '/srv/tandem',
        LOG_LEVEL: 'debug',
        BROKER_URL: 'wss://mqtt.example.org/mqtt',
        MAX_PACKET_BYTES: '131072',
        CONNECT_TIMEOUT_MS: '2000',
        MAX_CONNECTIONS_PER_IP: '5',
        CONNECT_RATE_PER_IP: '3',
        CONNECT_BURST_PER_IP: '7',
        FLAP_MAX: '9',
        FLAP_WINDOW_MS: '30000',
        FLAP_BAN_MS: '60000',
        MAX_CONNECTIONS: '1234',
        MSG_RATE: '11',
        MSG_BURST: '33',
        MAX_FRAMES_PER_PACKET: '16',
        OUTBOUND_BUFFER_BYTES: '524288',
        DRAIN_TIMEOUT_MS: '4000',
        KEEPALIVE_MIN_S: '10',
        KEEPALIVE_MAX_S: '60',
        ALLOWED_ORIGINS: 'https://app.example.org, http://localhost:5173',
        TRUSTED_PROXY: '127.0.0.1,10.0.0.0/8,::1',
        STUN_URLS: 'stun:stun.example.org:3478',
        TURN_URLS: 'turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349',
        TURN_SECRET: '0123456789abcdef0123',
        TURN_TTL: '600',
        TURN_CREDENTIALS_PER_IP: '7',
        ICE_RATE_LIMIT: '12',
        REDIS_URL: 'redis://redis.example.org:6379',
        SERVER_TTL_MS: '5000',
        METRICS_TOKEN: 'metrics-token-0123456789',
        LOG_HASH_KEY: 'log-hash-key-0123456789',
        VAPID_PUBLIC_KEY: KEYS.publicKey,
        VAPID_PRIVATE_KEY: KEYS.privateKey,
        VAPID_SUBJECT: 'https://tandem.example.org',
        DATA_DIR: '/var/lib/tandem',
        PUSH_ENDPOINT_HOSTS: 'push.example.org, *.Push.Example.NET,127.0.0.1:8080,[::1]:9000',
        PUSH_PER_ENDPOINT_PER_MINUTE: '6',
        PUSH_PER_IP_PER_MINUTE: '600',
        PUSH_TIMEOUT_MS: '5000',
      }),
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      distDir: '/srv/tandem',
      logLevel: 'debug',
      brokerUrl: 'wss://mqtt.example.org/mqtt',
      maxPacketBytes: 131072,
      connectTimeoutMs: 2000,
      limits: {
        ip: { maxConnections: 5, connectRate: 3, connectBurst: 7 },
        flap: { flapMax: 9, flapWindowMs: 30_000, banMs: 60_000 },
        maxConnections: 1234,
        msgRate: 11,
        msgBurst: 33,
        maxFramesPerPacket: 16,
        outboundBufferBytes: 524_288,
        drainTimeoutMs: 4000,
        keepaliveMinSeconds: 10,
        keepaliveMaxSeconds: 60,
      },
      allowedOrigins: ['https://app.example.org', 'http://localhost:5173'],
      trustedProxies: ['127.0.0.1', '10.0.0.0/8', '::1'],
      ice: {
        stunUrls: ['stun:stun.example.org:3478'],
        turn: {
          urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'],
          secret: '0123456789abcdef0123',
          ttlSeconds: 600,
          credentialsPerIp: 7,
        },
        rateLimitPerMinute: 12,
      },
      tls: null,
      httpRedirectPort: null,
      redisUrl: 'redis://redis.example.org:6379',
      serverTtlMs: 5000,
      metricsToken: 'metrics-token-0123456789',
      logHashKey: Buffer.from('log-hash-key-0123456789'),
      push: {
        vapid: KEYS,
        subject: 'https://tandem.example.org',
        dataDir: '/var/lib/tandem',
        endpointHosts: [
          { host: 'push.example.org', subdomains: false, port: null },
          { host: 'push.example.net', subdomains: true, port: null },
          { host: '127.0.0.1', subdomains: false, port: 8080 },
          { host: '[::1]', subdomains: false, port: 9000 },
        ],
        perEndpointPerMinute: 6,
        perIpPerMinute: 600,
        timeoutMs: 5000,
      },
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', BROKER_URL: ' ' })).toMatchObject({ port: 3000, brokerUrl: null });
  });

  it.each([
    ['PORT', 'http'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '3000.5'],
    ['LOG_LEVEL', 'verbose'],
    ['BROKER_URL', 'not a url'],
    ['BROKER_URL', 'https://mqtt.example.org/mqtt'],
    ['MAX_PACKET_BYTES', '1024'],
    ['MAX_PACKET_BYTES', '999999999999'],
    ['CONNECT_TIMEOUT_MS', '0'],
    ['CONNECT_TIMEOUT_MS', '5s'],
    ['MAX_CONNECTIONS_PER_IP', '0'],
    ['KEEPALIVE_MAX_S', '3'],
    ['OUTBOUND_BUFFER_BYTES', '1024'],
    ['ALLOWED_ORIGINS', 'https://app.example.org/call'],
    ['ALLOWED_ORIGINS', 'app.example.org'],
    ['TRUSTED_PROXY', 'proxy.example.org'],
    ['TRUSTED_PROXY', '10.0.0.0/33'],
    ['VAPID_SUBJECT', 'admin@example.org'],
    ['VAPID_SUBJECT', 'http://example.org'],
    ['VAPID_SUBJECT', 'mailto:nobody'],
    ['PUSH_ENDPOINT_HOSTS', 'https://fcm.googleapis.com'],
    ['PUSH_ENDPOINT_HOSTS', 'fcm.googleapis.com/fcm'],
    ['PUSH_ENDPOINT_HOSTS', '*.10.0.0.1'],
    ['PUSH_ENDPOINT_HOSTS', 'push.example.org:99999'],
    ['PUSH_PER_ENDPOINT_PER_MINUTE', '0'],
    ['PUSH_PER_IP_PER_MINUTE', 'lots'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid ${name}: `));
  });
});

describe('VAPID keys', () => {
  it('takes both keys from the environment, or neither', () => {
    expect(loadConfig({ VAPID_PUBLIC_KEY: KEYS.publicKey, VAPID_PRIVATE_KEY: KEYS.privateKey }).push.vapid).toEqual(KEYS);
    expect(loadConfig({}).push.vapid).toBeNull();
  });

  it.each([
    [{ VAPID_PUBLIC_KEY: KEYS.publicKey }, 'VAPID_PRIVATE_KEY', /required when VAPID_PUBLIC_KEY is set/],
    [{ VAPID_PRIVATE_KEY: KEYS.privateKey }, 'VAPID_PUBLIC_KEY', /required when VAPID_PRIVATE_KEY is set/],
    [{ VAPID_PUBLIC_KEY: KEYS.publicKey.slice(0, 40), VAPID_PRIVATE_KEY: KEYS.privateKey }, 'VAPID_PUBLIC_KEY', /65 bytes/],
    [{ VAPID_PUBLIC_KEY: `${KEYS.publicKey}=`, VAPID_PRIVATE_KEY: KEYS.privateKey }, 'VAPID_PUBLIC_KEY', /base64url/],
    [{ VAPID_PUBLIC_KEY: KEYS.publicKey, VAPID_PRIVATE_KEY: 'abc+/' }, 'VAPID_PRIVATE_KEY', /base64url/],
    [{ VAPID_PUBLIC_KEY: KEYS.publicKey, VAPID_PRIVATE_KEY: OTHER.privateKey }, 'VAPID_PRIVATE_KEY', /not one pair/],
  ])('refuses %o, naming %s', (env, name, detail) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid ${name}: `));
    expect(() => loadConfig(env)).toThrow(detail);
  });

  it('never quotes a key in its errors', () => {
    try {
      loadConfig({ VAPID_PUBLIC_KEY: KEYS.publicKey, VAPID_PRIVATE_KEY: OTHER.privateKey });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(OTHER.privateKey);
      expect((err as Error).message).not.toContain(KEYS.publicKey);
    }
  });

  describe('without them in the environment: <DATA_DIR>/vapid.json', () => {
    const dirs: string[] = [];
    afterEach(async () => {
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    });
    const tempDir = async (): Promise<string> => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-vapid-'));
      dirs.push(dir);
      return dir;
    };

    it('generates a pair on first start into a new directory, mode 0600, and reuses it', async () => {
      const dataDir = join(await tempDir(), 'nested', 'data');
      const first = withVapidKeys(loadConfig({ DATA_DIR: dataDir }));
      expect(first.source).toBe('generated');
      expect(first.file).toBe(join(dataDir, 'vapid.json'));
      const keys = first.config.push.vapid!;
      expect(Buffer.from(keys.publicKey, 'base64url')).toHaveLength(65);
      expect((await stat(join(dataDir, 'vapid.json'))).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(join(dataDir, 'vapid.json'), 'utf8'))).toEqual(keys);

      const second = withVapidKeys(loadConfig({ DATA_DIR: dataDir }));
      expect(second.source).toBe('file');
      expect(second.config.push.vapid).toEqual(keys);
    });

    it('leaves keys from the environment alone and touches no file', async () => {
      const dataDir = await tempDir();
      const result = withVapidKeys(loadConfig({ DATA_DIR: dataDir, VAPID_PUBLIC_KEY: KEYS.publicKey, VAPID_PRIVATE_KEY: KEYS.privateKey }));
      expect(result.source).toBe('env');
      expect(result.config.push.vapid).toEqual(KEYS);
      await expect(stat(join(dataDir, 'vapid.json'))).rejects.toThrow(/ENOENT/);
    });

    it.each([
      ['not JSON', '{', /not JSON/],
      ['no keys', '{"publicKey": 1}', /no publicKey\/privateKey/],
      ['keys of two pairs', JSON.stringify({ publicKey: KEYS.publicKey, privateKey: OTHER.privateKey }), /not one pair/],
    ])('stops with a DATA_DIR error for a file with %s', async (_what, content, detail) => {
      const dataDir = await tempDir();
      await writeFile(join(dataDir, 'vapid.json'), content);
      expect(() => withVapidKeys(loadConfig({ DATA_DIR: dataDir }))).toThrow(/^Invalid DATA_DIR: /);
      expect(() => withVapidKeys(loadConfig({ DATA_DIR: dataDir }))).toThrow(detail);
    });

    it('stops with a DATA_DIR error that names the way out when it cannot write', async () => {
      // Under a regular file: unwritable even for root, which these machines run tests as.
      const file = join(await tempDir(), 'not-a-dir');
      await writeFile(file, '');
      const dataDir = join(file, 'data');
      expect(() => withVapidKeys(loadConfig({ DATA_DIR: dataDir }))).toThrow(/^Invalid DATA_DIR: cannot write .*VAPID_PUBLIC_KEY/);
    });
  });
});
