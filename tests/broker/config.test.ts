import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PACKET_BYTES } from '../../protocol/index';
import { ConfigError, loadConfig } from '../../broker/config';

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
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid ${name}: `));
  });
});
