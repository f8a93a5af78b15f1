/**
 * `npm run lighthouse`: a report, not a test gate. Builds nothing: run
 * `npm run build` first. Starts the real server, runs Lighthouse 13 (fetched
 * by npx from the npm registry) with Debian's Chromium and the mobile preset,
 * and prints the performance, accessibility and best-practices scores.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath } from '../tests/helpers/chromium';
import { startServer } from '../tests/helpers/server';

const server = await startServer({ LOG_LEVEL: 'warn' });
const home = mkdtempSync(join(tmpdir(), 'tandem-lighthouse-'));
try {
  const pages = [`${server.url}/`];
  for (const url of pages) {
    const run = spawnSync(
      'npx',
      ['--yes', 'lighthouse@13', url, '--output=json', '--output-path=stdout', '--quiet',
        '--only-categories=performance,accessibility,best-practices',
        '--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking'],
      { env: { ...process.env, CHROME_PATH: chromiumPath(), XDG_CONFIG_HOME: home }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (run.status !== 0) {
      console.error(run.stderr);
      process.exitCode = 1;
      continue;
    }
    const report = JSON.parse(run.stdout) as {
      categories: Record<string, { title: string; score: number }>;
      audits: Record<string, { score: number | null; title: string; scoreDisplayMode: string }>;
    };
    console.log(`\nLighthouse (mobile) ${url}`);
    for (const c of Object.values(report.categories)) console.log(`  ${c.title.padEnd(16)} ${Math.round(c.score * 100)}`);
    const failing = Object.values(report.audits).filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === 'binary');
    for (const a of failing) console.log(`  - ${a.title}`);
  }
} finally {
  await server.stop();
  rmSync(home, { recursive: true, force: true });
}
