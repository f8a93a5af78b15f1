/**
 * Starts the real server process (broker/main.ts via tsx) on a free port and
 * waits for /healthz. stop() ends exactly that process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import webpush from 'web-push';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface ServerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process printed (JSON log lines). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** GET over https trusting `ca` (fetch can't take a CA); resolves with the status. */
function httpsStatus(url: string, ca: string | Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

/** `ca`: the certificate to trust when `url` is https (e.g. one made by `npm run cert`). */
export async function waitForHealthy(
  url: string,
  timeoutMs = 20_000,
  isAlive: () => boolean = () => true,
  ca?: string | Buffer,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('server process exited before it was ready');
    try {
      const status = ca === undefined ? (await fetch(`${url}/healthz`)).status : await httpsStatus(`${url}/healthz`, ca);
      if (status === 200) return;
      last = status;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50)); // polling interval while the process boots, not a wait for an outcome
  }
  throw new Error(`server at ${url} not healthy after ${timeoutMs} ms: ${String(last)}`);
}

/**
 * Every test client, browsers included, connects from 127.0.0.1, so a whole
 * e2e run would look like one flapping host and be banned. tests/hardening
 * overrides these with the values it tests.
 */
export const RELAXED_IP_LIMITS: Readonly<Record<string, string>> = {
  MAX_CONNECTIONS_PER_IP: '100000',
  CONNECT_RATE_PER_IP: '100000',
  CONNECT_BURST_PER_IP: '100000',
  FLAP_MAX: '1000000',
};

/** The METRICS_TOKEN every test server gets; send `metricsHeaders` with GET /metrics. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';
export const metricsHeaders: Readonly<Record<string, string>> = { Authorization: `Bearer ${TEST_METRICS_TOKEN}` };

/**
 * VAPID keys for every test server, so none writes <repo>/data/vapid.json.
 * A test of the DATA_DIR path passes VAPID_PUBLIC_KEY/VAPID_PRIVATE_KEY as ''
 * (empty = unset) and a temp DATA_DIR.
 */
export const TEST_VAPID_KEYS = webpush.generateVAPIDKeys();

/**
 * Environment for a server whose heap a test can collect on demand with
 * `collectGarbage`: a test-only preload (tests/helpers/gc-on-signal.cjs),
 * nothing in the product.
 */
export const GC_ON_SIGNAL_ENV: Readonly<Record<string, string>> = {
  NODE_OPTIONS: `--expose-gc --require ${fileURLToPath(new URL('./gc-on-signal.cjs', import.meta.url))}`,
};

/** Runs a full GC in a server started with GC_ON_SIGNAL_ENV; resolves once it has run. */
export function collectGarbage(server: ServerProcess): Promise<void> {
  const { proc } = server;
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      if (!d.toString().includes('[test-gc] done')) return;
      proc.stderr?.off('data', onData);
      resolve();
    };
    proc.stderr?.on('data', onData);
    if (!proc.kill('SIGUSR2')) reject(new Error('could not signal the server'));
  });
}

/** The process's resident set size in bytes, from /proc (Linux). */
export async function rssBytes(proc: ChildProcess): Promise<number> {
  const status = await readFile(`/proc/${proc.pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${proc.pid}`);
  return Number(kb) * 1024;
}

/**
 * With TLS_CERT in `env`, the server speaks https: pass the certificate as
 * `options.ca` so the readiness probe trusts it; `url` is then https://.
 */
export async function startServer(
  env: Record<string, string> = {},
  port?: number,
  options: { ca?: string | Buffer } = {},
): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  const host = env.HOST ?? '127.0.0.1';
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'broker/main.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      PORT: String(p),
      HOST: host,
      LOG_LEVEL: 'debug',
      STUN_URLS: '',
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      VAPID_PUBLIC_KEY: TEST_VAPID_KEYS.publicKey,
      VAPID_PRIVATE_KEY: TEST_VAPID_KEYS.privateKey,
      VAPID_SUBJECT: 'mailto:tests@tandem.example',
      ...RELAXED_IP_LIMITS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `${env.TLS_CERT ? 'https' : 'http'}://${host}:${p}`;
  try {
    await waitForHealthy(url, 20_000, () => proc.exitCode === null && proc.signalCode === null, options.ca);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  return {
    url,
    port: p,
    proc,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}
