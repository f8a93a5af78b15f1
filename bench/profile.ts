/**
 * Where does our broker spend its CPU under the broker benchmark's load?
 * Runs that load once against our server started with `node --cpu-prof`,
 * then prints self time by package and by function.
 *
 *   npm run bench:profile -- --rooms 500 --duration 10 [--cluster]
 *
 * The .cpuprofile files stay in bench/results/profiles/ (open them in Chrome
 * DevTools → Performance for the call tree).
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { optionsFromArgs } from './broker';
import { summarizeProfile } from './lib/cpuprofile';
import { runLoad } from './lib/load';
import { RESULTS_DIR, formatNumber, machineLine, table } from './lib/report';
import { startOurs, startRedis } from './lib/targets';

const argv = process.argv.slice(2);
const cluster = argv.includes('--cluster');
const options = optionsFromArgs(argv.filter((a) => a !== '--cluster'));
const dir = join(RESULTS_DIR, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
mkdirSync(dir, { recursive: true });

const redis = cluster ? await startRedis() : null;
const target = await startOurs({
  ...(redis ? { redis } : {}),
  // The profile is written when the process exits (SIGTERM → graceful close → exit).
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
});
try {
  const result = await runLoad(target, { ...options.load, rooms: options.roomCounts[0]! });
  console.log(`\nProfile · ${machineLine()} · ${result.rooms} rooms${cluster ? ' · REDIS_URL' : ''}`);
  console.log(`${formatNumber(result.roundTripsPerSec)} round trips/s, p99 ${formatNumber(result.rttP99Ms)} ms, broker CPU ${Math.round(result.targetCpuPct)}%`);
} finally {
  await target.stop();
  await redis?.stop();
}

const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
const file = profiles.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
const summary = summarizeProfile(file);
const rows = (xs: typeof summary.owners): (string | number)[][] => xs.map((h) => [h.name, Math.round(h.selfMs), `${formatNumber(100 * h.share)}%`]);
console.log(`\nSelf time by package (whole run, ${Math.round(summary.total)} ms sampled)\n`);
console.log(table(['package', 'self ms', 'share'], rows(summary.owners)));
console.log('\nSelf time by function\n');
console.log(table(['function', 'self ms', 'share'], rows(summary.functions)));
console.log(`\n${file}`);
process.exit(0);
