/**
 * `npm run bench`: every benchmark of issue 7 in turn: call setup in
 * Chromium (bench/call.ts), broker (ours vs Mosquitto), cluster (1 vs 2
 * processes on Redis), bundle (gzip sizes), recovery after a network cut
 * (bench/recovery.ts), then impaired links (bench/network.ts, issue 14).
 * `--smoke` goes to all of them; other options go to the broker and cluster
 * benchmarks (`npm run bench -- --rooms 500 --sweep`).
 * One benchmark failing does not stop the others; the exit status says
 * whether all ran.
 */
import { main as broker } from './broker';
import { main as bundle } from './bundle';
import { main as call } from './call';
import { main as cluster } from './cluster';
import { runEach, runIfMain } from './lib/runner';
import { main as network } from './network';
import { main as recovery } from './recovery';

runIfMain(import.meta, (argv) => {
  const only = argv.includes('--smoke') ? ['--smoke'] : [];
  return runEach([
    ['call', () => call(only)],
    ['broker', () => broker(argv)],
    ['cluster', () => cluster(argv)],
    ['bundle', () => bundle(only)],
    ['recovery', () => recovery(only)],
    ['network', () => network(only)],
  ]);
});
