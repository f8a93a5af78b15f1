/**
 * What every benchmark's entry point shares: the options all of them take
 * (--smoke, --json), saving the report, and running as a script (`npm run
 * bench:x` / `tsx bench/x.ts`) with an exit status that says whether it ran.
 * bench/all.ts runs them in turn with runEach.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs, writeResults } from './report';

/** `--smoke` (a short run that checks the benchmark works, not the numbers) and `--json <file>`, plus the benchmark's own options. */
export function parseBenchArgs<T extends Record<string, string | boolean>>(argv: string[], defaults: T): T & { smoke: boolean; json: string } {
  return parseArgs(argv, { smoke: false, json: '', ...defaults });
}

/** Writes the report (bench/results/<name>-<date>.json, or --json) and prints `JSON: <file>`, the line the smoke tests look for. */
export function saveReport(name: string, data: unknown, json: string): string {
  const file = writeResults(name, data, json || undefined);
  console.log(`\nJSON: ${file}`);
  return file;
}

/**
 * Runs `main` with the command line's options when `meta` is the module node
 * was started with (not when bench/all.ts or a test imports it). Exits 0 once
 * it has finished, 1 with the error if it threw: a benchmark holds servers,
 * browsers and timers that would otherwise keep the process alive.
 */
export function runIfMain(meta: ImportMeta, main: (argv: string[]) => unknown): void {
  if (process.argv[1] === undefined || meta.url !== pathToFileURL(process.argv[1]).href) return;
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
}

/** Runs each benchmark in turn; one failing does not stop the others. Throws at the end, naming those that failed. */
export async function runEach(runs: ReadonlyArray<readonly [name: string, run: () => unknown]>): Promise<void> {
  const failed: string[] = [];
  for (const [name, run] of runs) {
    try {
      await run();
    } catch (err) {
      failed.push(name);
      console.error(`\nbench ${name} failed:`, err);
    }
  }
  if (failed.length > 0) throw new Error(`Failed: ${failed.join(', ')}`);
}
