import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { CallBenchReport } from '../../bench/call';
import type { NetworkReport } from '../../bench/network';
import type { RecoveryReport } from '../../bench/recovery';
import { isCi } from '../helpers/binaries';
import { REPO } from '../helpers/server';

/**
 * The browser benchmarks (bench/call.ts, bench/recovery.ts, bench/network.ts) in their
 * --smoke mode, run as `npm run bench:…` runs them, so a change to the app or
 * the server that breaks one fails here instead of on the day someone needs
 * the numbers. The numbers themselves are not judged (tests/bench-smoke does
 * the same for the server-side benchmarks under vitest; these need Chromium).
 * Each benchmark launches its own Chromium and server processes.
 */
const run = promisify(execFile);
// Made in beforeAll, not at load: Playwright also loads this file in its main process to list the
// tests, where afterAll never runs, and a directory made there was left behind by every run.
let dir = '';
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-bench-smoke-e2e-'));
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function bench<T>(script: string): Promise<{ report: T; stdout: string }> {
  const json = join(dir, `${script}.json`);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `bench/${script}.ts`, '--smoke', '--json', json], {
    cwd: REPO,
    maxBuffer: 10 * 1024 * 1024,
    timeout: 150_000,
  });
  expect(stdout).toContain(`JSON: ${json}`);
  return { report: JSON.parse(readFileSync(json, 'utf8')) as T, stdout };
}

test.describe.configure({ mode: 'serial', timeout: 180_000 });

test('bench:call --smoke: every variant sets up calls and the ratio table is printed', async () => {
  const { report, stdout } = await bench<CallBenchReport>('call');
  expect(stdout).toMatch(/\| variant +\| runs \| failed \| p50 ms \| p95 ms/);
  expect(stdout).toContain('Ours relative to each reference');
  expect(report.summaries.map((s) => s.variant)).toEqual(['ours', 'ring', 'loopback', 'ideal', 'peerjs']);
  expect(stdout).toMatch(/Ringing a saved contact, Answer → first frame: p50 \d+ ms vs a link's Join → first frame \d+ ms/);
  for (const s of report.summaries) {
    expect(s.runs, `${s.name}: ${report.runs.filter((r) => r.variant === s.variant && !r.ok).map((r) => r.error).join('; ')}`).toBeGreaterThanOrEqual(1);
    expect(s.p50).toBeGreaterThan(0);
    expect(s.phases.firstFrame).toBeGreaterThan(0);
  }
  expect(report.ratios.map((r) => r.vs)).toEqual(['loopback', 'ideal', 'peerjs']);
  for (const r of report.ratios) expect(r.p50).toBeGreaterThan(0);
  // Our MQTT traffic was seen and the answer traced from B to A.
  expect(report.signaling?.joinerPublishes).toBeGreaterThan(0);
});

test('bench:recovery --smoke: each scenario recovers once (the network cut may be skipped without root/nft)', async () => {
  const { report, stdout } = await bench<RecoveryReport>('recovery');
  expect(stdout).toMatch(/\| scenario +\| runs \| failed \| median ms +\| p95 ms/);
  expect(report.summaries.map((s) => s.scenario)).toEqual(['broker', 'netcut', 'reload']);
  for (const s of report.summaries) {
    if (s.skipped) {
      expect(s.scenario).toBe('netcut');
      // .ci/run installs nftables and iproute2 and runs as root: a skip there would hide a broken benchmark.
      expect(isCi(), `network cut skipped in CI: ${s.skipped}`).toBe(false);
      expect(stdout).toContain(`skipped: ${s.skipped}`);
      continue;
    }
    expect(s.runs, `${s.name}: ${report.runs.filter((r) => r.scenario === s.scenario && !r.ok).map((r) => r.error).join('; ')}`).toBe(1);
    expect(s.median).toBeGreaterThan(0);
  }
});

test('bench:network --smoke: one impaired link, ours and the reference measured, the ratio table printed', async () => {
  const { report, stdout } = await bench<NetworkReport>('network');
  expect(stdout).toMatch(/\| link +\| variant +\| audio concealed/);
  expect(stdout).toContain('Ours ÷ reference');
  expect(report.runs.map((r) => r.variant).sort()).toEqual(['ours', 'reference']);
  for (const r of report.runs) {
    expect(r.ok, `${r.variant}: ${r.error ?? ''}`).toBe(true);
    expect(r.alice!.fps + r.bob!.fps).toBeGreaterThan(0);
  }
});
