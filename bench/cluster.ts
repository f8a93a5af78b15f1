/**
 * Benchmark 3 (issue 7): what clustering costs. The broker benchmark's load
 * (bench/broker.ts) against
 *   - 1 process, everything in memory (the default),
 *   - 1 process on Redis (REDIS_URL: pub/sub, retained messages, Wills, rooms in Redis),
 *   - 2 processes on Redis, each room's two peers on different processes
 *     (the worst case a load balancer can produce: every message crosses Redis).
 * Redis is started fresh for each run and its CPU is reported separately.
 *
 *   npm run bench:cluster
 *   npm run bench:cluster -- --rooms 500 --duration 20 --repeat 3
 *   npm run bench:cluster -- --smoke
 */
import { RESULT_HEADER, optionsFromArgs, resultRows } from './broker';
import { type LoadResult, medianResults, runLoad } from './lib/load';
import { formatNumber, machine, machineLine, table } from './lib/report';
import { runIfMain, saveReport } from './lib/runner';
import { type RunningTarget, startOurs, startRedis } from './lib/targets';

type Layout = 'memory' | 'redis-1' | 'redis-2';
const LAYOUTS: Record<Layout, string> = {
  memory: '1 process (memory)',
  'redis-1': '1 process + Redis',
  'redis-2': '2 processes + Redis',
};

async function measure(layout: Layout, rooms: number, load: ReturnType<typeof optionsFromArgs>['load']): Promise<LoadResult> {
  const redis = layout === 'memory' ? null : await startRedis();
  let target: RunningTarget | null = null;
  try {
    target = await startOurs({ processes: layout === 'redis-2' ? 2 : 1, ...(redis ? { redis } : {}), name: LAYOUTS[layout] });
    return await runLoad(target, { ...load, rooms });
  } finally {
    await target?.stop();
    await redis?.stop();
  }
}

export async function main(argv: string[]): Promise<LoadResult[][]> {
  const options = optionsFromArgs(argv);
  const layouts = Object.keys(LAYOUTS) as Layout[];
  const perRooms: LoadResult[][] = [];
  const allRuns: LoadResult[] = [];
  for (const rooms of options.roomCounts) {
    const runs = new Map<Layout, LoadResult[]>(layouts.map((l) => [l, []]));
    for (let i = 0; i < options.repeat; i++) {
      // Rotate the order so no layout always runs first.
      const order = layouts.map((_, j) => layouts[(i + j) % layouts.length]!);
      for (const layout of order) {
        const result = await measure(layout, rooms, options.load);
        runs.get(layout)!.push(result);
        allRuns.push(result);
        console.error(`  ${result.target}, ${rooms} rooms: ${formatNumber(result.roundTripsPerSec)} round trips/s, p99 ${formatNumber(result.rttP99Ms)} ms`);
      }
    }
    perRooms.push(layouts.map((l) => medianResults(runs.get(l)!)));
  }

  const m = machine();
  console.log(`\nCluster benchmark · ${machineLine(m)}`);
  console.log(
    `Same load as the broker benchmark (QoS ${options.load.qos}, ${options.load.durationMs / 1000} s ping-pong, ${options.load.concurrency} rooms joining at a time). ` +
      `"2 processes" puts each room's peers on different processes. Median of ${options.repeat} run(s), order rotating. ` +
      `Only ${m.nproc} cores for the server process(es), Redis and the load generator.\n`,
  );
  const results = perRooms.flat();
  console.log(table([...RESULT_HEADER, 'Redis CPU'], resultRows(results).map((row, i) => [...row, `${Math.round(results[i]!.helperCpuPct)}%`])));
  console.log('\nRelative to 1 process in memory\n');
  console.log(
    table(
      ['rooms', 'layout', 'joins/s', 'round trips/s', 'p99', 'KiB/idle conn (all processes)'],
      perRooms.flatMap((group) => {
        const base = group[0]!;
        return group.slice(1).map((r) => [
          r.rooms,
          r.target,
          `${formatNumber((100 * r.joinsPerSec) / base.joinsPerSec)}%`,
          `${formatNumber((100 * r.roundTripsPerSec) / base.roundTripsPerSec)}%`,
          `${formatNumber(r.rttP99Ms / base.rttP99Ms)}×`,
          `${formatNumber(r.kibPerIdleConnection)} (vs ${formatNumber(base.kibPerIdleConnection)})`,
        ]);
      }),
    ),
  );
  saveReport('cluster', { machine: m, load: options.load, layouts: LAYOUTS, results: perRooms, runs: allRuns }, options.json);
  return perRooms;
}

runIfMain(import.meta, main);
