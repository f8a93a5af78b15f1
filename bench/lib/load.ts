/**
 * Runs one load (bench/lib/loadgen.ts in one or more child processes)
 * against one target and measures the target's processes from /proc while
 * it does: RSS before and after the joins, CPU during the ping-pong.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromGenerator, JoinReport, LoadConfig, PingReport, ToGenerator } from './loadgen-protocol';
import { cpuMs, percentile, rssKiB, sortedCopy } from './report';

const GENERATOR = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

export interface Target {
  name: string;
  urls: string[];
  /** The broker's processes (RSS and CPU are summed over them). */
  pids: number[];
  /** Other processes whose CPU counts as the target's cost (e.g. Redis). */
  helperPids?: number[];
}

export interface LoadOptions {
  rooms: number;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  qos: 0 | 1;
  sdpChars: number;
  candidates: number;
  /** Load generator processes; the rooms are split among them. */
  generators: number;
  localAddresses: string[];
  /** Idle time after the joins before the "idle" RSS is read, so a GC after the join burst is not counted as memory held per connection. */
  settleMs: number;
}

export interface LoadResult {
  target: string;
  rooms: number;
  connections: number;
  joined: number;
  joinFailures: number;
  joinErrors: string[];
  joinsPerSec: number;
  joinP50Ms: number;
  joinP99Ms: number;
  roundTripsPerSec: number;
  rttP50Ms: number;
  rttP99Ms: number;
  rssBaselineKiB: number;
  /** Right after the last join, before settling. */
  rssAfterJoinKiB: number;
  rssIdleKiB: number;
  kibPerIdleConnection: number;
  /** Target CPU during the ping-pong, in % of one core (200% = both cores). */
  targetCpuPct: number;
  /** Helper processes' CPU (Redis) during the ping-pong, % of one core. */
  helperCpuPct: number;
  /** Load generators' own CPU (process.cpuUsage), % of one core, summed over generators. */
  generatorCpuJoinPct: number;
  generatorCpuPingPct: number;
}

class Generator {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<FromGenerator['type'], (message: FromGenerator) => void>();
  private failure: Error | null = null;

  constructor() {
    this.child = fork(GENERATOR, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: FromGenerator) => {
      if (message.type === 'failed') return this.fail(new Error(`load generator failed: ${message.message}`));
      this.waiting.get(message.type)?.(message);
    });
    this.child.on('exit', (code, signal) => {
      if (code !== 0) this.fail(new Error(`load generator exited (code ${code}, signal ${signal})`));
    });
  }

  async request<T extends FromGenerator['type']>(message: ToGenerator, reply: T, timeoutMs: number): Promise<Extract<FromGenerator, { type: T }>> {
    if (this.failure) throw this.failure;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load generator: no "${reply}" within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(reply, (m) => {
        clearTimeout(timer);
        this.waiting.delete(reply);
        resolve(m as Extract<FromGenerator, { type: T }>);
      });
      this.onFailure = (err) => {
        clearTimeout(timer);
        reject(err);
      };
      this.child.send(message);
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onFailure: (err: Error) => void = () => {};

  private fail(err: Error): void {
    this.failure ??= err;
    this.onFailure(err);
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

export async function runLoad(target: Target, options: LoadOptions): Promise<LoadResult> {
  const count = Math.max(1, Math.min(options.generators, options.rooms));
  const generators = Array.from({ length: count }, () => new Generator());
  try {
    const share = (i: number): number => Math.floor(options.rooms / count) + (i < options.rooms % count ? 1 : 0);
    const config = (i: number): LoadConfig => ({
      urls: target.urls,
      rooms: share(i),
      concurrency: Math.max(1, Math.round(options.concurrency / count)),
      qos: options.qos,
      sdpChars: options.sdpChars,
      candidates: options.candidates,
      localAddresses: options.localAddresses,
    });
    await Promise.all(generators.map((g, i) => g.request({ type: 'prepare', config: config(i) }, 'prepared', 120_000)));

    const rssBaselineKiB = sum(target.pids.map(rssKiB));
    const joins = (await Promise.all(generators.map((g) => g.request({ type: 'join' }, 'joined', 600_000)))).map((m) => m.report);
    const rssAfterJoinKiB = sum(target.pids.map(rssKiB));
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const rssIdleKiB = sum(target.pids.map(rssKiB));

    const cpuBefore = sum(target.pids.map(cpuMs));
    const helperBefore = sum((target.helperPids ?? []).map(cpuMs));
    const pings = (
      await Promise.all(
        generators.map((g) => g.request({ type: 'pingpong', durationMs: options.durationMs, warmupMs: options.warmupMs }, 'pinged', options.durationMs + 60_000)),
      )
    ).map((m) => m.report);
    const targetCpuMs = sum(target.pids.map(cpuMs)) - cpuBefore;
    const helperCpuMs = sum((target.helperPids ?? []).map(cpuMs)) - helperBefore;
    await Promise.all(generators.map((g) => g.request({ type: 'close' }, 'closed', 60_000)));

    return summarize(target, options, joins, pings, { rssBaselineKiB, rssAfterJoinKiB, rssIdleKiB, targetCpuMs, helperCpuMs });
  } finally {
    for (const g of generators) g.kill();
  }
}

function summarize(
  target: Target,
  options: LoadOptions,
  joins: JoinReport[],
  pings: PingReport[],
  measured: { rssBaselineKiB: number; rssAfterJoinKiB: number; rssIdleKiB: number; targetCpuMs: number; helperCpuMs: number },
): LoadResult {
  const joined = sum(joins.map((j) => j.joined));
  const joinWall = Math.max(...joins.map((j) => j.wallMs));
  const joinLatencies = sortedCopy(joins.flatMap((j) => j.latencies));
  const rtts = sortedCopy(pings.flatMap((p) => p.latencies));
  const windowMs = Math.max(...pings.map((p) => p.windowMs));
  const pingWall = Math.max(...pings.map((p) => p.wallMs));
  const connections = 2 * joined;
  return {
    target: target.name,
    rooms: options.rooms,
    connections,
    joined,
    joinFailures: sum(joins.map((j) => j.failed)),
    joinErrors: joins.flatMap((j) => j.errors).slice(0, 5),
    joinsPerSec: (joined * 1000) / joinWall,
    joinP50Ms: percentile(joinLatencies, 50),
    joinP99Ms: percentile(joinLatencies, 99),
    roundTripsPerSec: (rtts.length * 1000) / windowMs,
    rttP50Ms: percentile(rtts, 50),
    rttP99Ms: percentile(rtts, 99),
    rssBaselineKiB: measured.rssBaselineKiB,
    rssAfterJoinKiB: measured.rssAfterJoinKiB,
    rssIdleKiB: measured.rssIdleKiB,
    kibPerIdleConnection: connections > 0 ? (measured.rssIdleKiB - measured.rssBaselineKiB) / connections : Number.NaN,
    targetCpuPct: (100 * measured.targetCpuMs) / pingWall,
    helperCpuPct: (100 * measured.helperCpuMs) / pingWall,
    generatorCpuJoinPct: (100 * sum(joins.map((j) => j.cpuMs))) / joinWall,
    generatorCpuPingPct: (100 * sum(pings.map((p) => p.cpuMs))) / pingWall,
  };
}

/**
 * Median of each numeric field over repetitions of one load against one
 * target: on a shared 2-core machine one disturbed run is common, and a mean
 * would carry it into the ratios.
 */
export function medianResults(results: LoadResult[]): LoadResult {
  const first = results[0];
  if (!first) throw new Error('medianResults: no results');
  const out = { ...first } as Record<string, unknown>;
  for (const [key, value] of Object.entries(first)) {
    if (typeof value !== 'number') continue;
    const sorted = results.map((r) => r[key as keyof LoadResult] as number).sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    out[key] = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  out.joinErrors = results.flatMap((r) => r.joinErrors).slice(0, 5);
  return out as unknown as LoadResult;
}
