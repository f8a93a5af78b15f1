/**
 * The recovery benchmark's (bench/recovery.ts) scenarios, results and report:
 * what each row measures, the summary per scenario, and the printed tables.
 */
import { machine, machineLine, percentile, sortedCopy, table } from './report';

export const SCENARIOS = {
  broker: 'broker restart → both back on signaling',
  netcut: 'network restored → frames both ways',
  reload: 'reload one side → frames both ways',
  outage10: 'server down 10 s → pages back on signaling (median page)',
  outage60: 'server down 60 s → pages back on signaling (median page)',
} as const;
export type Scenario = keyof typeof SCENARIOS;

/** How long each outage scenario keeps the server down. */
export const OUTAGE_MS = { outage10: 10_000, outage60: 60_000 } as const;
export type OutageScenario = keyof typeof OUTAGE_MS;
export const isOutage = (s: Scenario): s is OutageScenario => s in OUTAGE_MS;

/** New frames that count as "flowing again" (tests/e2e use the same). */
export const FRAMES = 5;

export interface RunResult {
  scenario: Scenario;
  run: number;
  ok: boolean;
  error?: string;
  /** The measured recovery time (see SCENARIOS and the header). */
  ms: number;
  /** Scenario-specific details. */
  detail: Record<string, number | string | boolean | null>;
}

export interface ScenarioSummary {
  scenario: Scenario;
  name: string;
  runs: number;
  failed: number;
  skipped: string | null;
  median: number;
  p95: number;
  min: number;
  max: number;
}

export interface RecoveryReport {
  machine: ReturnType<typeof machine>;
  runsPerScenario: number;
  runsPerOutage: number;
  pagesPerOutage: number;
  cutSeconds: number;
  summaries: ScenarioSummary[];
  runs: RunResult[];
}

export function summarize(scenario: Scenario, runs: RunResult[], skipped: string | null): ScenarioSummary {
  const ok = sortedCopy(runs.filter((r) => r.ok).map((r) => r.ms));
  return {
    scenario,
    name: SCENARIOS[scenario],
    runs: ok.length,
    failed: runs.filter((r) => !r.ok).length,
    skipped,
    median: percentile(ok, 50),
    p95: percentile(ok, 95),
    min: ok[0] ?? Number.NaN,
    max: ok[ok.length - 1] ?? Number.NaN,
  };
}

const ms = (n: number): string => (Number.isFinite(n) ? `${Math.round(n)}` : '–');

function medianOf(runs: RunResult[], key: string): number {
  const xs = runs.filter((r) => r.ok && typeof r.detail[key] === 'number').map((r) => r.detail[key] as number);
  return percentile(sortedCopy(xs), 50);
}

export function printReport(report: RecoveryReport): void {
  const outages = report.summaries.some((s) => isOutage(s.scenario))
    ? `, ${report.runsPerOutage} per outage (${report.pagesPerOutage} pages each; a run's value is the median page)`
    : '';
  console.log(`\nRecovery benchmark · ${machineLine(report.machine)}`);
  console.log(
    `Fresh call per run (headless Chromium, fake media, host candidates only); ${report.runsPerScenario} run(s) per scenario${outages}; network cut ${report.cutSeconds} s. ` +
      `"Frames" = ${FRAMES} new remote frames decoded on both sides (getStats).\n`,
  );
  console.log(
    table(
      ['scenario', 'runs', 'failed', 'median ms', 'p95 ms', 'min', 'max'],
      report.summaries.map((s) =>
        s.skipped ? [s.name, 0, 0, `skipped: ${s.skipped}`, '', '', ''] : [s.name, s.runs, s.failed, ms(s.median), ms(s.p95), ms(s.min), ms(s.max)],
      ),
    ),
  );
  const of = (s: Scenario) => report.runs.filter((r) => r.scenario === s);
  const details: string[] = [];
  if (of('broker').some((r) => r.ok)) {
    const b = of('broker').filter((r) => r.ok);
    details.push(
      `broker restart: kill → restarted server healthy ${ms(medianOf(b, 'killToHealthyMs'))} ms (process start, not the app), kill → both back ${ms(medianOf(b, 'killToBackMs'))} ms (medians); ` +
        `media kept flowing through the restart in ${b.filter((r) => r.detail.mediaKeptFlowing === true).length}/${b.length} runs.`,
    );
  }
  if (of('netcut').some((r) => r.ok)) {
    const n = of('netcut').filter((r) => r.ok);
    const count = (values: unknown[]) => [...values.reduce((m: Map<string, number>, v) => m.set(String(v), (m.get(String(v)) ?? 0) + 1), new Map<string, number>())].map(([v, k]) => `${v} ×${k}`).join(', ');
    details.push(
      `network cut: frames at alice ${ms(medianOf(n, 'aliceFramesMs'))} ms / at bob (the cut one) ${ms(medianOf(n, 'bobFramesMs'))} ms, both "connected" ${ms(medianOf(n, 'bothConnectedMs'))} ms after the network returned (medians).\n` +
        `  alice saw: ${count(n.map((r) => r.detail.aliceStates))}; bob saw: ${count(n.map((r) => r.detail.bobStates))}; alice at the restore: ${count(n.map((r) => r.detail.aliceAtRestore))}.`,
    );
  }
  if (of('reload').some((r) => r.ok)) {
    const r = of('reload').filter((x) => x.ok);
    details.push(`reload: frames at alice ${ms(medianOf(r, 'aliceFramesMs'))} ms / at bob (reloaded) ${ms(medianOf(r, 'bobFramesMs'))} ms, both "connected" ${ms(medianOf(r, 'bothConnectedMs'))} ms (medians).`);
  }
  for (const s of (Object.keys(OUTAGE_MS) as OutageScenario[]).filter((o) => of(o).some((r) => r.ok))) {
    const o = of(s).filter((r) => r.ok);
    details.push(
      `server down ${OUTAGE_MS[s] / 1000} s: first page back ${ms(medianOf(o, 'firstPageMs'))} ms, last ${ms(medianOf(o, 'lastPageMs'))} ms after the server was healthy ` +
        `(medians over runs; target ≤ 2000 ms, issue 12); kill → healthy ${ms(medianOf(o, 'killToHealthyMs'))} ms.`,
    );
  }
  if (details.length > 0) console.log(`\n${details.join('\n')}`);
  for (const f of report.runs.filter((r) => !r.ok)) console.log(`\n${SCENARIOS[f.scenario]}, run ${f.run} failed: ${f.error}`);
}
