/**
 * The brokers a benchmark runs against, each started fresh (so its RSS
 * baseline is its own) and stopped by PID: our server as a real process
 * (tests/helpers/server.ts), Mosquitto with the sample deploy config
 * (tests/helpers/mosquitto.ts), Redis for the cluster (tests/helpers/redis.ts).
 */
import { spawn } from 'node:child_process';
import { REPO, type ServerProcess, freePort, startServer, waitForHealthy } from '../../tests/helpers/server';
import { startMosquitto } from '../../tests/helpers/mosquitto';
import { startRedis, type RedisServer } from '../../tests/helpers/redis';
import type { Target } from './load';

export interface RunningTarget extends Target {
  stop(): Promise<void>;
}

/**
 * The per-address and per-connection limits (broker/limits.ts) exist to stop
 * one abusive client; here one address legitimately opens thousands of
 * connections and each pings as fast as it can, so they are lifted. Names
 * the server does not know are ignored.
 */
export const BENCH_SERVER_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  MAX_CONNECTIONS_PER_IP: '10000000',
  CONNECT_RATE_PER_IP: '10000000',
  CONNECT_BURST_PER_IP: '10000000',
  FLAP_MAX: '10000000',
  MSG_RATE: '10000000',
  MSG_BURST: '10000000',
};

const wsUrl = (httpUrl: string): string => `${httpUrl.replace(/^http/, 'ws')}/mqtt`;

/** `processes` server processes; with more than one, or with `redis`, they share it (REDIS_URL). */
export interface OursOptions {
  processes?: number;
  redis?: RedisServer;
  name?: string;
  /** Extra node flags, e.g. --cpu-prof (which NODE_OPTIONS does not accept). */
  nodeArgs?: string[];
}

export async function startOurs(options: OursOptions = {}): Promise<RunningTarget> {
  const count = options.processes ?? 1;
  if (count > 1 && !options.redis) throw new Error('startOurs: several processes need Redis');
  const env = { ...BENCH_SERVER_ENV, ...(options.redis ? { REDIS_URL: options.redis.url } : {}) };
  const start = (): Promise<ServerProcess> => (options.nodeArgs ? startWithNodeArgs(env, options.nodeArgs) : startServer(env));
  const servers = await Promise.all(Array.from({ length: count }, start));
  return {
    name: options.name ?? 'Tandem (Aedes)',
    urls: servers.map((s) => wsUrl(s.url)),
    pids: servers.map((s) => s.proc.pid!),
    helperPids: options.redis ? [options.redis.pid] : [],
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

export async function startMosquittoTarget(): Promise<RunningTarget> {
  const mosquitto = await startMosquitto({ configFile: `${REPO}deploy/mosquitto/mosquitto.conf` });
  return {
    name: 'Mosquitto 2.0.11',
    urls: [mosquitto.wsUrl],
    pids: [mosquitto.pid],
    stop: () => mosquitto.stop(),
  };
}

/** tests/helpers/server.ts's startServer, with node flags in front of broker/main.ts. */
async function startWithNodeArgs(env: Record<string, string>, nodeArgs: string[]): Promise<ServerProcess> {
  const port = await freePort();
  let out = '';
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'broker/main.ts'], {
    cwd: REPO,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', STUN_URLS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealthy(url, 20_000, () => proc.exitCode === null && proc.signalCode === null);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  return {
    url,
    port,
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

export { startRedis };
