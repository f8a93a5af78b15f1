/**
 * Server configuration, read once from the environment. Every variable is
 * parsed by one small reader that names the variable in its error, so a typo
 * in a deployment stops the server at start instead of surfacing as a call
 * that silently fails later.
 *
 * One thing here touches the disk besides TLS_*: `withVapidKeys`, which
 * main.ts runs after `loadConfig`, reads or creates <DATA_DIR>/vapid.json.
 *
 * To add a setting (TURN_*, TLS_*, REDIS_URL, …): add a field to `Config`,
 * read it in `loadConfig` with one of the readers below, and document it in
 * the README's list of variables.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES, MAX_TOPIC_CHARS } from '../protocol/index';
import { DEFAULT_ICE_RATE_LIMIT, DEFAULT_STUN_URLS, DEFAULT_TURN_CREDENTIALS_PER_IP, type IceConfig, type TurnConfig } from './ice';
import { TlsFileError, readTlsFiles, type TlsConfig } from './tls';
import { DEFAULT_TURN_TTL_SECONDS, parseIceUrls } from './turn';
import { proxyTrust } from './ip';
import type { ServerLimits } from './limits';
import { DEFAULT_PUSH_PER_ENDPOINT, DEFAULT_PUSH_PER_IP, DEFAULT_PUSH_TIMEOUT_MS, DEFAULT_VAPID_SUBJECT, type PushConfig } from './push';
import { DEFAULT_PUSH_HOSTS, parsePushHostRule, type PushHostRule } from './push-hosts';
import { VapidFileError, loadOrCreateVapidKeys, vapidKeyProblem, vapidPairProblem, type VapidKeys } from './vapid';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** Absolute path of the built app (vite's outDir). */
  distDir: string;
  logLevel: LogLevel;
  /** An external MQTT-over-WebSocket broker for the app; null = this server's `/mqtt`. */
  brokerUrl: string | null;
  /** Largest whole MQTT packet accepted from a client (bytes). */
  maxPacketBytes: number;
  /** A connection that has not completed CONNECT by then is closed (ms). */
  connectTimeoutMs: number;
  /** Per-address and per-connection limits (broker/limits.ts). */
  limits: ServerLimits;
  /** Browser origins allowed to open /mqtt besides the server's own (`scheme://host[:port]`). */
  allowedOrigins: string[];
  /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For/-Host/-Proto are believed. */
  trustedProxies: string[];
  /** STUN for everyone (/config.json), TURN credentials for callers (/api/ice): broker/ice.ts. */
  ice: IceConfig;
  /** HTTPS (and wss:// on /mqtt) on the main port; null = plain HTTP, e.g. behind a TLS proxy. HSTS belongs only on HTTPS. */
  tls: TlsConfig | null;
  /** A plain-HTTP port that 301-redirects everything to the HTTPS port; null = none. Requires `tls`. */
  httpRedirectPort: number | null;
  /** Redis shared by every server process of a cluster; null = one process, everything in memory. */
  redisUrl: string | null;
  /** In a cluster: a process that has not refreshed its heartbeat for this long is dead and its rooms' places are freed (ms). */
  serverTtlMs: number;
  /** Bearer token for GET /metrics; null = /metrics is not served (it answers 404). */
  metricsToken: string | null;
  /** Key of the hash that stands for room ids in logs (log.ts); null = a random key per process. */
  logHashKey: Buffer | null;
  /** POST /api/push: VAPID keys, allowed push services, limits (broker/push.ts). */
  push: PushConfig;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A packet cap below this would refuse the app's own largest message
 * (payload + topic + fixed/variable header), so calls would break mid-setup.
 */
export const MIN_PACKET_BYTES = MAX_PAYLOAD_BYTES + MAX_TOPIC_CHARS + 16;
/** The largest Remaining Length MQTT can encode [MQTT-2.2.3]. */
const MQTT_MAX_REMAINING_LENGTH = 268_435_455;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Empty strings count as unset, so `FOO= npm run serve` falls back to the default. */
function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `expected a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `expected ${min}..${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(name, `expected one of ${choices.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const value = raw(env, name);
  if (value === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `not a URL: "${value}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got "${parsed.protocol}"`);
  }
  return value;
}

function path(env: Env, name: string, fallback: string): string {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  // Relative paths resolve against the repo, not the caller's cwd, so
  // `npm run serve` and a service manager agree on where dist/ is.
  return isAbsolute(value) ? value : resolve(REPO_ROOT, value);
}

/**
 * A list of ICE URLs restricted to some schemes; undefined when the variable
 * is absent. Unlike the other readers, an empty value is an empty list, not
 * "unset": `STUN_URLS=` is how to say "no STUN" (offline tests, relay-only sites).
 */
function iceUrls(env: Env, name: string, schemes: readonly string[], hint: string): string[] | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  let urls: string[];
  try {
    urls = parseIceUrls(value, name);
  } catch (err) {
    throw new ConfigError(name, (err as Error).message.replace(`${name}: `, ''));
  }
  const wrong = urls.find((u) => !schemes.includes(u.slice(0, u.indexOf(':'))));
  if (wrong !== undefined) throw new ConfigError(name, `"${wrong}": ${hint}`);
  return urls;
}

/** coturn REST-API secrets are HMAC keys: anyone holding one credential can guess a short one offline. */
const MIN_TURN_SECRET_CHARS = 16;

function turn(env: Env): TurnConfig | null {
  const urls = iceUrls(env, 'TURN_URLS', ['turn', 'turns'], 'only turn: and turns: URLs belong here (stun: goes in STUN_URLS)') ?? [];
  const secret = raw(env, 'TURN_SECRET');
  if (urls.length === 0 && secret === undefined) return null;
  if (secret === undefined) throw new ConfigError('TURN_SECRET', "required when TURN_URLS is set: coturn's static-auth-secret");
  if (urls.length === 0) throw new ConfigError('TURN_URLS', 'required when TURN_SECRET is set: the turn:/turns: URLs of the coturn that shares it');
  // Never quote the value: this message is printed.
  if (secret.length < MIN_TURN_SECRET_CHARS) {
    throw new ConfigError('TURN_SECRET', `too short: use at least ${MIN_TURN_SECRET_CHARS} characters (openssl rand -hex 32)`);
  }
  return {
    urls,
    secret,
    ttlSeconds: int(env, 'TURN_TTL', DEFAULT_TURN_TTL_SECONDS, 10, 86_400),
    credentialsPerIp: int(env, 'TURN_CREDENTIALS_PER_IP', DEFAULT_TURN_CREDENTIALS_PER_IP, 1, 1_000_000),
  };
}

function ice(env: Env): IceConfig {
  const stun = iceUrls(env, 'STUN_URLS', ['stun'], 'only stun: URLs belong here (turn: needs credentials: put it in TURN_URLS)');
  return {
    stunUrls: stun ?? [...DEFAULT_STUN_URLS],
    turn: turn(env),
    rateLimitPerMinute: int(env, 'ICE_RATE_LIMIT', DEFAULT_ICE_RATE_LIMIT, 1, 100_000),
  };
}

function tls(env: Env): TlsConfig | null {
  const certPath = raw(env, 'TLS_CERT');
  const keyPath = raw(env, 'TLS_KEY');
  if (certPath === undefined && keyPath === undefined) return null;
  if (certPath === undefined) throw new ConfigError('TLS_CERT', 'required when TLS_KEY is set');
  if (keyPath === undefined) throw new ConfigError('TLS_KEY', 'required when TLS_CERT is set');
  try {
    return readTlsFiles(path(env, 'TLS_CERT', certPath), path(env, 'TLS_KEY', keyPath));
  } catch (err) {
    if (err instanceof TlsFileError) throw new ConfigError(err.variable, err.message);
    throw err;
  }
}

function redirectPort(env: Env): number | null {
  if (raw(env, 'HTTP_REDIRECT_PORT') === undefined) return null;
  const port = int(env, 'HTTP_REDIRECT_PORT', 0, 0, 65_535);
  if (raw(env, 'TLS_CERT') === undefined) {
    throw new ConfigError('HTTP_REDIRECT_PORT', 'needs TLS_CERT and TLS_KEY: without HTTPS there is nothing to redirect to');
  }
  if (port !== 0 && port === int(env, 'PORT', 3000, 0, 65_535)) throw new ConfigError('HTTP_REDIRECT_PORT', `must differ from PORT (${port})`);
  return port;
}

/** A comma-separated list; unset or empty = []. */
function list(env: Env, name: string): string[] {
  return (raw(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function origins(env: Env, name: string): string[] {
  return list(env, name).map((value) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `not an origin: "${value}"`);
    }
    // An origin is scheme://host[:port] and nothing else; a path here is almost always a mistake.
    const bare = parsed.pathname === '/' && parsed.search === '' && parsed.hash === '' && parsed.username === '';
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !bare) {
      throw new ConfigError(name, `expected http(s)://host[:port], got "${value}"`);
    }
    return parsed.origin;
  });
}

function proxies(env: Env, name: string): string[] {
  const entries = list(env, name);
  try {
    proxyTrust(entries);
  } catch (err) {
    throw new ConfigError(name, (err as Error).message);
  }
  return entries;
}

function limits(env: Env, maxPacketBytes: number): ServerLimits {
  const keepaliveMinSeconds = int(env, 'KEEPALIVE_MIN_S', 5, 1, 65_535);
  const keepaliveMaxSeconds = int(env, 'KEEPALIVE_MAX_S', 120, 1, 65_535);
  if (keepaliveMaxSeconds < keepaliveMinSeconds) {
    throw new ConfigError('KEEPALIVE_MAX_S', `must be at least KEEPALIVE_MIN_S (${keepaliveMinSeconds})`);
  }
  return {
    // A backstop sized for a NAT pool (carrier-grade NAT puts thousands of phones behind one address), issue 11.
    ip: {
      maxConnections: int(env, 'MAX_CONNECTIONS_PER_IP', 500, 1, 10_000_000),
      connectRate: int(env, 'CONNECT_RATE_PER_IP', 10, 1, 10_000_000),
      connectBurst: int(env, 'CONNECT_BURST_PER_IP', 100, 1, 10_000_000),
    },
    // Per MQTT clientId, not per address.
    flap: {
      flapMax: int(env, 'FLAP_MAX', 15, 2, 10_000_000),
      flapWindowMs: int(env, 'FLAP_WINDOW_MS', 60_000, 1, 86_400_000),
      banMs: int(env, 'FLAP_BAN_MS', 300_000, 0, 86_400_000),
    },
    // Worst case per connection: OUTBOUND_BUFFER_BYTES queued to it plus one
    // MAX_PACKET_BYTES packet from it (320 KiB by default), so 4,000 of them
    // stay near 1.3 GB; idle ones cost a few tens of KB.
    maxConnections: int(env, 'MAX_CONNECTIONS', 4000, 1, 10_000_000),
    msgRate: int(env, 'MSG_RATE', 20, 1, 10_000_000),
    msgBurst: int(env, 'MSG_BURST', 100, 1, 10_000_000),
    maxFramesPerPacket: int(env, 'MAX_FRAMES_PER_PACKET', 64, 1, 1_000_000),
    // One whole packet must fit, or the largest legitimate message would count as "frozen".
    outboundBufferBytes: int(env, 'OUTBOUND_BUFFER_BYTES', 256 * 1024, maxPacketBytes, 1024 * 1024 * 1024),
    drainTimeoutMs: int(env, 'DRAIN_TIMEOUT_MS', 10_000, 1, 600_000),
    keepaliveMinSeconds,
    keepaliveMaxSeconds,
  };
}

/** Tokens and keys are compared or used as HMAC keys: short ones can be guessed. */
const MIN_SECRET_CHARS = 16;

function secret(env: Env, name: string, hint: string): string | null {
  const value = raw(env, name);
  if (value === undefined) return null;
  // Never quote the value: this message is printed.
  if (value.length < MIN_SECRET_CHARS) throw new ConfigError(name, `too short: use at least ${MIN_SECRET_CHARS} characters (${hint})`);
  return value;
}

/** VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, both or neither; null = neither (then vapid.json, see withVapidKeys). */
function vapidKeys(env: Env): VapidKeys | null {
  const publicKey = raw(env, 'VAPID_PUBLIC_KEY');
  const privateKey = raw(env, 'VAPID_PRIVATE_KEY');
  if (publicKey === undefined && privateKey === undefined) return null;
  if (publicKey === undefined) throw new ConfigError('VAPID_PUBLIC_KEY', 'required when VAPID_PRIVATE_KEY is set (npx web-push generate-vapid-keys)');
  if (privateKey === undefined) throw new ConfigError('VAPID_PRIVATE_KEY', 'required when VAPID_PUBLIC_KEY is set (npx web-push generate-vapid-keys)');
  // Never quote the values: this message is printed.
  const publicProblem = vapidKeyProblem('public', publicKey);
  if (publicProblem !== null) throw new ConfigError('VAPID_PUBLIC_KEY', publicProblem);
  const privateProblem = vapidKeyProblem('private', privateKey) ?? vapidPairProblem({ publicKey, privateKey });
  if (privateProblem !== null) throw new ConfigError('VAPID_PRIVATE_KEY', privateProblem);
  return { publicKey, privateKey };
}

/** RFC 8292 §2.1: a mailto: or https: URI where the push service can reach the operator. */
function vapidSubject(env: Env): string {
  const value = raw(env, 'VAPID_SUBJECT');
  if (value === undefined) return DEFAULT_VAPID_SUBJECT;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError('VAPID_SUBJECT', `not a URL: "${value}"`);
  }
  const ok =
    (parsed.protocol === 'mailto:' && /^[^@\s]+@[^@\s]+$/.test(parsed.pathname)) || (parsed.protocol === 'https:' && parsed.hostname !== '');
  if (!ok) throw new ConfigError('VAPID_SUBJECT', `expected mailto:you@example.org or https://example.org, got "${value}"`);
  return value;
}

function pushHosts(env: Env): PushHostRule[] {
  const entries = raw(env, 'PUSH_ENDPOINT_HOSTS') === undefined ? [...DEFAULT_PUSH_HOSTS] : list(env, 'PUSH_ENDPOINT_HOSTS');
  return entries.map((entry) => {
    try {
      return parsePushHostRule(entry);
    } catch (err) {
      throw new ConfigError('PUSH_ENDPOINT_HOSTS', (err as Error).message);
    }
  });
}

function push(env: Env): PushConfig {
  return {
    vapid: vapidKeys(env),
    subject: vapidSubject(env),
    dataDir: path(env, 'DATA_DIR', resolve(REPO_ROOT, 'data')),
    endpointHosts: pushHosts(env),
    perEndpointPerMinute: int(env, 'PUSH_PER_ENDPOINT_PER_MINUTE', DEFAULT_PUSH_PER_ENDPOINT, 1, 1_000_000),
    perIpPerMinute: int(env, 'PUSH_PER_IP_PER_MINUTE', DEFAULT_PUSH_PER_IP, 1, 10_000_000),
    timeoutMs: int(env, 'PUSH_TIMEOUT_MS', DEFAULT_PUSH_TIMEOUT_MS, 100, 120_000),
  };
}

/**
 * `config` with `push.vapid` filled in: as loadConfig read it from the
 * environment, or else from <DATA_DIR>/vapid.json, generated on first start.
 * `source` says which, for the start-up log line.
 */
export function withVapidKeys(config: Config): { config: Config; source: 'env' | 'file' | 'generated'; file: string | null } {
  if (config.push.vapid !== null) return { config, source: 'env', file: null };
  try {
    const { keys, generated, file } = loadOrCreateVapidKeys(config.push.dataDir);
    return { config: { ...config, push: { ...config.push, vapid: keys } }, source: generated ? 'generated' : 'file', file };
  } catch (err) {
    if (err instanceof VapidFileError) throw new ConfigError('DATA_DIR', err.message);
    throw err;
  }
}

export function loadConfig(env: Env = process.env): Config {
  return {
    port: int(env, 'PORT', 3000, 0, 65_535),
    host: raw(env, 'HOST') ?? '127.0.0.1',
    distDir: path(env, 'DIST_DIR', resolve(REPO_ROOT, 'dist')),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    brokerUrl: url(env, 'BROKER_URL', ['ws:', 'wss:']),
    maxPacketBytes: int(env, 'MAX_PACKET_BYTES', MAX_PACKET_BYTES, MIN_PACKET_BYTES, MQTT_MAX_REMAINING_LENGTH),
    connectTimeoutMs: int(env, 'CONNECT_TIMEOUT_MS', 5000, 1, 600_000),
    limits: limits(env, int(env, 'MAX_PACKET_BYTES', MAX_PACKET_BYTES, MIN_PACKET_BYTES, MQTT_MAX_REMAINING_LENGTH)),
    allowedOrigins: origins(env, 'ALLOWED_ORIGINS'),
    trustedProxies: proxies(env, 'TRUSTED_PROXY'),
    ice: ice(env),
    tls: tls(env),
    httpRedirectPort: redirectPort(env),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    serverTtlMs: int(env, 'SERVER_TTL_MS', 15_000, 300, 600_000),
    metricsToken: secret(env, 'METRICS_TOKEN', 'openssl rand -hex 32'),
    logHashKey: (() => {
      const key = secret(env, 'LOG_HASH_KEY', 'openssl rand -hex 32');
      return key === null ? null : Buffer.from(key, 'utf8');
    })(),
    push: push(env),
  };
}
