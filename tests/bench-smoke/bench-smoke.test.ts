/**
 * Each benchmark of issue 7 run as its npm script would run it, in --smoke
 * mode (a few rooms, about a second of load), so a change that breaks one
 * fails here instead of on the day someone needs the numbers. The numbers
 * themselves are not judged: only that every phase ran and produced them.
 * The browser benchmarks (call setup, recovery) need Chromium: their smoke
 * runs are in tests/e2e/bench-smoke.spec.ts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Comparison } from '../../bench/broker';
import type { BundleReport } from '../../bench/bundle';
import type { LoadResult } from '../../bench/lib/load';
import { findMosquitto } from '../helpers/mosquitto';
import { findRedis } from '../helpers/redis';
import { REPO } from '../helpers/server';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bench<T>(script: string, args: string[] = []): Promise<T> {
  const json = join(dir, `${script}.json`);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `bench/${script}.ts`, '--smoke', '--json', json, ...args], {
    cwd: REPO,
    maxBuffer: 10 * 1024 * 1024,
  });
  expect(stdout).toContain(`JSON: ${json}`);
  return JSON.parse(readFileSync(json, 'utf8')) as T;
}

function expectMeasured(r: LoadResult): void {
  expect(r.joinFailures, r.joinErrors.join('; ')).toBe(0);
  expect(r.joined).toBe(r.rooms);
  expect(r.joinsPerSec).toBeGreaterThan(0);
  expect(r.roundTripsPerSec).toBeGreaterThan(0);
  expect(r.rttP99Ms).toBeGreaterThanOrEqual(r.rttP50Ms);
  expect(r.rssIdleKiB).toBeGreaterThan(0);
  expect(r.generatorCpuPingPct).toBeGreaterThan(0);
}

const mosquitto = findMosquitto();
const redis = findRedis();

describe('benchmarks in smoke mode', () => {
  it.skipIf(mosquitto === null)('broker: ours and Mosquitto, side by side', async () => {
    const { comparisons } = await bench<{ comparisons: Comparison[] }>('broker');
    expect(comparisons).toHaveLength(1);
    for (const c of comparisons) {
      expectMeasured(c.ours);
      expectMeasured(c.mosquitto);
      expect(c.roundTripRatio).toBeGreaterThan(0);
    }
  }, 180_000);

  it.skipIf(redis === null)('cluster: 1 process, 1 on Redis, 2 on Redis', async () => {
    const { results } = await bench<{ results: LoadResult[][] }>('cluster');
    expect(results.flat().map((r) => r.target)).toEqual(['1 process (memory)', '1 process + Redis', '2 processes + Redis']);
    for (const r of results.flat()) expectMeasured(r);
  }, 180_000);

  it('bundle: shell and lazy chunks of a build', async () => {
    // A tiny build with the shape Vite gives ours: an entry that imports a
    // shared chunk statically and a page lazily; the page imports a library lazily.
    const dist = join(dir, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<script type="module" crossorigin src="/assets/index-a.js"></script><link rel="stylesheet" href="/assets/index-a.css">');
    writeFileSync(join(dist, 'assets', 'index-a.js'), 'import{a as e}from"./shared-b.js";const p=()=>import(`./Page-c.js`);e(p);');
    writeFileSync(join(dist, 'assets', 'index-a.css'), 'body{margin:0}');
    writeFileSync(join(dist, 'assets', 'shared-b.js'), 'export const a=(x)=>x;');
    writeFileSync(join(dist, 'assets', 'Page-c.js'), 'import{a}from"./shared-b.js";export default ()=>import("./lib-d.js");');
    writeFileSync(join(dist, 'assets', 'lib-d.js'), `export const big=${JSON.stringify('x'.repeat(5000))};`);
    const report = await bench<BundleReport>('bundle', ['--dist', dist]);
    expect(report.shell.map((f) => f.file).sort()).toEqual(['assets/index-a.css', 'assets/index-a.js', 'assets/shared-b.js']);
    expect(report.lazy.map((f) => [f.file, f.importedBy])).toEqual([
      ['assets/Page-c.js', ['import() in index-a.js']],
      ['assets/lib-d.js', ['import() in Page-c.js']],
    ]);
    expect(report.shellGzip).toBeGreaterThan(0);
  }, 60_000);
});
