/**
 * Benchmark 2 (issue 7): our broker against Mosquitto, same load, same run.
 *
 *   npm run bench:broker                      # 1,000 rooms = 2,000 connections
 *   npm run bench:broker -- --sweep           # 100, 500, 1,000 rooms
 *   npm run bench:broker -- --rooms 200 --duration 20 --repeat 3
 *   npm run bench:broker -- --smoke           # a few seconds, for the test suite
 *
 * For each room count, each broker is started fresh and gets the same load
 * from separate load generator processes (bench/lib/loadgen.ts): the app's
 * join sequence with sealed payloads, then ping-pong. The order alternates
 * between repetitions, so neither broker always runs on a warmer machine.
 */
import { type LoadOptions, type LoadResult, medianResults, runLoad } from './lib/load';
import { formatNumber, machine, machineLine, positiveInt, table } from './lib/report';
import { parseBenchArgs, runIfMain, saveReport } from './lib/runner';
import { type RunningTarget, startMosquittoTarget, startOurs } from './lib/targets';

export const TARGETS = { roundTripShare: 0.5, p99Factor: 2, kibPerIdleConnection: 20 } as const;

export interface BrokerBenchOptions {
  roomCounts: number[];
  repeat: number;
  load: Omit<LoadOptions, 'rooms'>;
}

export interface Comparison {
  rooms: number;
  ours: LoadResult;
  mosquitto: LoadResult;
  /** Every run; `ours` and `mosquitto` are their medians. */
  runs: { ours: LoadResult[]; mosquitto: LoadResult[] };
  roundTripRatio: number;
  p99Ratio: number;
  met: { roundTrips: boolean; p99: boolean; rss: boolean };
}

export function optionsFromArgs(argv: string[]): BrokerBenchOptions & { json: string } {
  const args = parseBenchArgs(argv, {
    rooms: '1000',
    sweep: false,
    duration: '10',
    concurrency: '100',
    qos: '1',
    generators: '1',
    repeat: '3',
    'source-ips': '0',
  });
  const smoke = args.smoke;
  const sourceIps = Number(args['source-ips']);
  const durationMs = smoke ? 1500 : positiveInt(args.duration, 'duration') * 1000;
  return {
    roomCounts: smoke ? [10] : args.sweep ? [100, 500, 1000] : [positiveInt(args.rooms, 'rooms')],
    repeat: smoke ? 1 : positiveInt(args.repeat, 'repeat'),
    json: args.json,
    load: {
      concurrency: positiveInt(args.concurrency, 'concurrency'),
      durationMs,
      warmupMs: Math.min(2000, Math.floor(durationMs / 5)),
      qos: args.qos === '0' ? 0 : 1,
      sdpChars: 4000,
      candidates: 10,
      generators: positiveInt(args.generators, 'generators'),
      // 127.0.0.2…: only needed past ~28k connections (ephemeral ports per source address).
      localAddresses: Array.from({ length: sourceIps }, (_, i) => `127.0.0.${i + 2}`),
      settleMs: smoke ? 200 : 3000,
    },
  };
}

async function measure(start: () => Promise<RunningTarget>, rooms: number, load: BrokerBenchOptions['load']): Promise<LoadResult> {
  const target = await start();
  try {
    return await runLoad(target, { ...load, rooms });
  } finally {
    await target.stop();
  }
}

export async function runBrokerBench(options: BrokerBenchOptions): Promise<Comparison[]> {
  const comparisons: Comparison[] = [];
  let run = 0;
  for (const rooms of options.roomCounts) {
    const ours: LoadResult[] = [];
    const theirs: LoadResult[] = [];
    for (let i = 0; i < options.repeat; i++) {
      const order = run++ % 2 === 0 ? (['ours', 'mosquitto'] as const) : (['mosquitto', 'ours'] as const);
      for (const which of order) {
        const result = await measure(which === 'ours' ? () => startOurs() : startMosquittoTarget, rooms, options.load);
        (which === 'ours' ? ours : theirs).push(result);
        console.error(`  ${result.target}, ${rooms} rooms: ${formatNumber(result.roundTripsPerSec)} round trips/s, p99 ${formatNumber(result.rttP99Ms)} ms`);
      }
    }
    const o = medianResults(ours);
    const m = medianResults(theirs);
    const roundTripRatio = o.roundTripsPerSec / m.roundTripsPerSec;
    const p99Ratio = o.rttP99Ms / m.rttP99Ms;
    comparisons.push({
      rooms,
      ours: o,
      mosquitto: m,
      runs: { ours, mosquitto: theirs },
      roundTripRatio,
      p99Ratio,
      met: {
        roundTrips: roundTripRatio >= TARGETS.roundTripShare,
        p99: p99Ratio <= TARGETS.p99Factor,
        rss: o.kibPerIdleConnection <= TARGETS.kibPerIdleConnection,
      },
    });
  }
  return comparisons;
}

export function resultRows(results: LoadResult[]): (string | number)[][] {
  return results.map((r) => [
    r.target,
    r.rooms,
    r.connections,
    r.joinFailures,
    r.joinsPerSec,
    r.joinP99Ms,
    r.roundTripsPerSec,
    r.rttP50Ms,
    r.rttP99Ms,
    r.kibPerIdleConnection,
    `${Math.round(r.targetCpuPct)}%`,
    `${Math.round(r.generatorCpuJoinPct)}% / ${Math.round(r.generatorCpuPingPct)}%`,
  ]);
}

export const RESULT_HEADER = [
  'broker',
  'rooms',
  'conns',
  'failed',
  'joins/s',
  'join p99 ms',
  'round trips/s',
  'p50 ms',
  'p99 ms',
  'KiB/idle conn',
  'broker CPU',
  'loadgen CPU join/ping',
];

export function printBrokerReport(comparisons: Comparison[], load: BrokerBenchOptions['load'], repeat: number): void {
  const m = machine();
  console.log(`\nBroker benchmark · ${machineLine(m)}`);
  console.log(
    `Load: per room, the app's join sequence (sealed ~4 KB offer retained, answer, ${load.candidates} candidates each way), then ping-pong at QoS ${load.qos} ` +
      `for ${load.durationMs / 1000} s (first ${load.warmupMs / 1000} s not counted), one round trip in flight per room; ${load.concurrency} rooms joining at a time; ` +
      `${load.generators} load generator process(es). Each broker started fresh per run; median of ${repeat} run(s), order alternating.`,
  );
  console.log(
    `Only ${m.nproc} cores: the broker, the load generator(s) and (for the cluster) Redis share them, so "loadgen CPU" (% of one core) ` +
      'shows how much of the machine the measuring side took; near 100% per generator means the generator, not the broker, was the limit.\n',
  );
  console.log(table(RESULT_HEADER, resultRows(comparisons.flatMap((c) => [c.ours, c.mosquitto]))));
  console.log('\nOurs vs Mosquitto (targets: ≥ 50% of its round trips/s, p99 ≤ 2×, ≤ 20 KiB RSS per idle connection)\n');
  const yes = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log(
    table(
      ['rooms', 'round trips/s ours/theirs', 'p99 ours/theirs', 'KiB/idle conn ours (theirs)', 'round trips', 'p99', 'RSS'],
      comparisons.map((c) => [
        c.rooms,
        `${formatNumber(c.roundTripRatio * 100)}%`,
        `${formatNumber(c.p99Ratio)}×`,
        `${formatNumber(c.ours.kibPerIdleConnection)} (${formatNumber(c.mosquitto.kibPerIdleConnection)})`,
        yes(c.met.roundTrips),
        yes(c.met.p99),
        yes(c.met.rss),
      ]),
    ),
  );
  const failures = comparisons.flatMap((c) => [c.ours, c.mosquitto]).filter((r) => r.joinFailures > 0);
  for (const r of failures) console.log(`\n${r.target}: ${r.joinFailures} joins failed, e.g. ${r.joinErrors.join('; ')}`);
}

export async function main(argv: string[]): Promise<Comparison[]> {
  const options = optionsFromArgs(argv);
  const comparisons = await runBrokerBench(options);
  printBrokerReport(comparisons, options.load, options.repeat);
  saveReport('broker', { machine: machine(), load: options.load, targets: TARGETS, comparisons }, options.json);
  return comparisons;
}

runIfMain(import.meta, main);
