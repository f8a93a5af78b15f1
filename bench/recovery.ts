/**
 * `npm run bench:recovery` (issue 8, measured, not gated): how long a call
 * takes to recover by itself, median and p95 over fresh calls, in headless
 * Chromium with fake media against the real server process.
 *
 *   npm run bench:recovery                 # 10 runs of each scenario
 *   npm run bench:recovery -- --runs 20 --cut 8
 *   npm run bench:recovery -- --smoke      # 1 run of each (3 s cut), no outage rows, for the test suite
 *   npm run bench:recovery -- --only broker,reload
 *   npm run bench:recovery -- --only outage10,outage60 --outage-runs 5 --calls 3
 *
 * Scenarios (each run on a call set up fresh and already decoding both ways):
 *   broker restart  SIGKILL the server, start it again on the same port at
 *                   once. Measured: from the restarted server answering
 *                   /healthz to both call screens showing
 *                   data-signaling="connected" (also from the kill). Media
 *                   should never stop; the table says whether it did.
 *   network cut     Bob's browser runs in its own network namespace; nftables
 *                   drops its UDP (the media path; signaling over TCP stays up)
 *                   for --cut seconds (8). Measured: from the rules' removal to
 *                   both sides having decoded 5 new frames (getStats
 *                   framesDecoded). Needs root, `ip` and `nft`; otherwise
 *                   skipped, and the output says why.
 *   reload          Bob reloads the page. Measured: from page.reload() to
 *                   both sides decoding 5 frames on the new connection.
 *   server down     SIGKILL the server, keep it down 10 s (outage10) or 60 s
 *   10 s / 60 s     (outage60), start it again on the same port. --calls
 *                   calls (2: 4 pages) share each outage. Measured: from the
 *                   restarted server answering /healthz to each page's call
 *                   screen showing data-signaling="connected", the median
 *                   over the pages (issue 12: "signaling returns within 2 s of
 *                   the server's return, whatever the outage"). The app's
 *                   reconnect backoff grows with the outage, which a restart
 *                   at once (broker restart) never shows. --outage-runs runs
 *                   each (3). Not in --smoke: the broker restart runs the same
 *                   code with a 0 s outage.
 *
 * Times are Date.now() in Node and in the pages (one machine, one clock);
 * in-page polls run every 10–20 ms, and the server's /healthz probe every 50 ms.
 */
import type { Browser, Page } from '@playwright/test';
import { findBinary } from '../tests/helpers/binaries';
import { createNetns, type Netns } from '../tests/helpers/netns';
import { freePort, startServer, type ServerProcess } from '../tests/helpers/server';
import { connectedPair, screenAttribute, waitForScreen, waitForScreenLeaving, type CallPair } from './lib/app-call';
import { framesDecoded, launchChromium, pcCount, timeline, waitForFramesDecoded } from './lib/browser';
import { FRAMES, OUTAGE_MS, SCENARIOS, isOutage, printReport, summarize, type RecoveryReport, type RunResult, type Scenario } from './lib/recovery-report';
import { machine, percentile, positiveInt, sortedCopy } from './lib/report';
import { parseBenchArgs, runIfMain, saveReport } from './lib/runner';

export { SCENARIOS, printReport, summarize };
export type { RecoveryReport, RunResult, Scenario, ScenarioSummary } from './lib/recovery-report';

/** The server's per-address limits are for abusive clients; here every browser is 127.0.0.1 and calls are set up back to back. */
const SERVER_ENV = { STUN_URLS: '', LOG_LEVEL: 'warn', ICE_RATE_LIMIT: '100000' };

export interface RecoveryOptions {
  runs: number;
  /** Runs of each outage scenario (each keeps the server down 10 or 60 s). */
  outageRuns: number;
  /** Calls (two pages each) that share one outage. */
  calls: number;
  cutMs: number;
  timeoutMs: number;
  json: string;
  only: Scenario[];
}

export function optionsFromArgs(argv: string[]): RecoveryOptions {
  const args = parseBenchArgs(argv, { runs: '10', 'outage-runs': '3', calls: '2', cut: '', timeout: '30', only: '' });
  const all = Object.keys(SCENARIOS) as Scenario[];
  // Smoke: no outage rows (they last 10 and 60 s); the broker restart covers their code with a 0 s outage.
  const only = args.only !== '' ? (args.only.split(',') as Scenario[]) : args.smoke ? all.filter((s) => !isOutage(s)) : all;
  for (const s of only) if (!(s in SCENARIOS)) throw new Error(`--only: unknown scenario "${s}"; known: ${Object.keys(SCENARIOS).join(',')}`);
  return {
    runs: args.smoke ? 1 : positiveInt(args.runs, 'runs'),
    outageRuns: args.smoke ? 1 : positiveInt(args['outage-runs'], 'outage-runs'),
    calls: positiveInt(args.calls, 'calls'),
    // Smoke: a 3 s cut, so the whole smoke run stays short; it checks the benchmark works, not the numbers.
    cutMs: (args.cut !== '' ? positiveInt(args.cut, 'cut') : args.smoke ? 3 : 8) * 1000,
    timeoutMs: positiveInt(args.timeout, 'timeout') * 1000,
    json: args.json,
    only,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- scenarios ---------------------------------------------------------------

interface Env {
  browser: Browser;
  port: number;
  server: ServerProcess;
  timeoutMs: number;
}

interface Outage {
  killedAt: number;
  /** When the restarted server answered /healthz. */
  healthyAt: number;
  /** Per page, when its call screen showed data-signaling="connected" again. */
  backAt: number[];
}

/**
 * SIGKILLs the server, keeps it down `downMs`, starts it again on the same
 * port and waits for every page to be back on signaling. With a real outage,
 * each page must first have noticed the loss; otherwise its "connected"
 * afterwards would measure nothing.
 */
async function serverOutage(env: Env, pages: Page[], downMs: number): Promise<Outage> {
  const killedAt = Date.now();
  await env.server.stop('SIGKILL');
  if (downMs > 0) {
    await Promise.all(pages.map((p) => waitForScreenLeaving(p, 'data-signaling', 'connected', downMs)));
    await sleep(Math.max(0, killedAt + downMs - Date.now())); // the outage itself: its length is the scenario
  }
  env.server = await startServer(SERVER_ENV, env.port);
  const healthyAt = Date.now();
  const backAt = await Promise.all(pages.map((p) => waitForScreen(p, 'data-signaling', 'connected', env.timeoutMs)));
  return { killedAt, healthyAt, backAt };
}

async function brokerRestart(env: Env): Promise<Pick<RunResult, 'ms' | 'detail'>> {
  const pair = await connectedPair(env.browser, env.browser, env.server.url, env.timeoutMs);
  try {
    const { alice, bob } = pair;
    const framesAtKill = await Promise.all([framesDecoded(alice), framesDecoded(bob)]);
    const { killedAt, healthyAt, backAt } = await serverOutage(env, [alice, bob], 0);
    const back = Math.max(...backAt);
    const frames = await Promise.all([framesDecoded(alice), framesDecoded(bob)]);
    const states = await Promise.all([screenAttribute(alice, 'data-state'), screenAttribute(bob, 'data-state')]);
    return {
      ms: back - healthyAt,
      detail: {
        killToHealthyMs: healthyAt - killedAt,
        killToBackMs: back - killedAt,
        // Frames kept arriving while the broker was gone (the media path does not need it).
        mediaKeptFlowing: frames[0]! > framesAtKill[0]! && frames[1]! > framesAtKill[1]!,
        statesAfter: states.join('/'),
      },
    };
  } finally {
    await pair.close();
  }
}

async function serverDown(env: Env, downMs: number, calls: number): Promise<Pick<RunResult, 'ms' | 'detail'>> {
  const pairs: CallPair[] = [];
  try {
    for (let i = 0; i < calls; i++) pairs.push(await connectedPair(env.browser, env.browser, env.server.url, env.timeoutMs));
    const pages = pairs.flatMap((p) => [p.alice, p.bob]);
    const { killedAt, healthyAt, backAt } = await serverOutage(env, pages, downMs);
    const perPage = sortedCopy(backAt.map((t) => t - healthyAt));
    const states = await Promise.all(pages.map((p) => screenAttribute(p, 'data-state')));
    return {
      ms: percentile(perPage, 50),
      detail: {
        pages: pages.length,
        firstPageMs: perPage[0]!,
        lastPageMs: perPage[perPage.length - 1]!,
        killToHealthyMs: healthyAt - killedAt,
        statesAfter: [...new Set(states)].join('/'),
      },
    };
  } finally {
    for (const p of pairs) await p.close();
  }
}

async function reload(env: Env): Promise<Pick<RunResult, 'ms' | 'detail'>> {
  const pair = await connectedPair(env.browser, env.browser, env.server.url, env.timeoutMs);
  try {
    const { alice, bob } = pair;
    // Alice's frames count only on connections made after the reload (the old one still holds frames sent before it).
    const alicePcs = await pcCount(alice);
    const t0 = Date.now();
    await bob.reload();
    const [aliceAt, bobAt] = await Promise.all([
      waitForFramesDecoded(alice, FRAMES, env.timeoutMs, 'alice decoding the new connection', alicePcs),
      waitForFramesDecoded(bob, FRAMES, env.timeoutMs, 'bob decoding after the reload'),
    ]);
    const connected = await Promise.all([waitForScreen(alice, 'data-state', 'connected', env.timeoutMs), waitForScreen(bob, 'data-state', 'connected', env.timeoutMs)]);
    return {
      ms: Math.max(aliceAt, bobAt) - t0,
      detail: {
        aliceFramesMs: aliceAt - t0,
        bobFramesMs: bobAt - t0,
        bothConnectedMs: Math.max(...connected) - t0,
        aliceConnections: (await pcCount(alice)) - alicePcs,
      },
    };
  } finally {
    await pair.close();
  }
}

interface NetEnv {
  netns: Netns;
  server: ServerProcess;
  outside: Browser;
  inside: Browser;
  cutMs: number;
  timeoutMs: number;
}

/** Resolves once `page` decodes no new frame for `quietMs` (the cut took effect). */
async function framesStalled(page: Page, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const n = await framesDecoded(page);
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await sleep(100); // polling interval
  }
  throw new Error(`frames did not stall within ${timeoutMs} ms of the cut`);
}

async function networkCut(env: NetEnv): Promise<Pick<RunResult, 'ms' | 'detail'>> {
  const pair = await connectedPair(env.outside, env.inside, env.server.url, env.timeoutMs);
  try {
    const { alice, bob } = pair;
    let before: number[] | null = null;
    const cutAt = Date.now();
    env.netns.cutMedia();
    try {
      await framesStalled(alice, 700, Math.min(env.cutMs, 10_000));
      await sleep(Math.max(0, cutAt + env.cutMs - Date.now())); // the outage itself: its length is the scenario
    } finally {
      // The counters while still cut: whatever is decoded from here on came through after the restore.
      before = await Promise.all([framesDecoded(alice), framesDecoded(bob)]).catch(() => null);
      env.netns.restoreMedia();
    }
    const restoredAt = Date.now();
    if (!before) throw new Error('could not read frame counters at the end of the cut');
    const [aliceAt, bobAt] = await Promise.all([
      waitForFramesDecoded(alice, before[0]! + FRAMES, env.timeoutMs, 'alice decoding after the cut'),
      waitForFramesDecoded(bob, before[1]! + FRAMES, env.timeoutMs, 'bob decoding after the cut'),
    ]);
    const connected = await Promise.all([waitForScreen(alice, 'data-state', 'connected', env.timeoutMs), waitForScreen(bob, 'data-state', 'connected', env.timeoutMs)]);
    // What each person saw, from the cut until both were connected again (the instrumentation logs data-state changes).
    const seen = async (page: Page) => {
      const changes = (await timeline(page)).filter((e) => e.ev === 'screen' && e.attr === 'data-state' && e.t <= Math.max(...connected));
      const atCut = changes.filter((e) => e.t < cutAt).pop()?.value ?? '?';
      const during = changes.filter((e) => e.t >= cutAt);
      return {
        sequence: [atCut, ...during.map((e) => e.value)].filter((v, i, xs) => i === 0 || xs[i - 1] !== v).join('→'),
        atRestore: during.filter((e) => e.t <= restoredAt).pop()?.value ?? atCut,
      };
    };
    const [aliceSeen, bobSeen] = await Promise.all([seen(alice), seen(bob)]);
    return {
      ms: Math.max(aliceAt, bobAt) - restoredAt,
      detail: {
        aliceFramesMs: aliceAt - restoredAt,
        bobFramesMs: bobAt - restoredAt,
        bothConnectedMs: Math.max(...connected) - restoredAt,
        aliceStates: aliceSeen.sequence,
        bobStates: bobSeen.sequence,
        aliceAtRestore: aliceSeen.atRestore,
      },
    };
  } finally {
    await pair.close();
  }
}

/** Why the network cut can't run here, or null if it can. */
function netcutUnavailable(): string | null {
  const missing: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('root (network namespaces and nftables)');
  if (findBinary('ip') === null) missing.push('`ip` (apt-get install -y iproute2)');
  if (findBinary('nft') === null) missing.push('`nft` (apt-get install -y nftables)');
  return missing.length === 0 ? null : `needs ${missing.join(', ')}`;
}

// ---- main ---------------------------------------------------------------------

async function repeat(scenario: Scenario, runs: number, once: () => Promise<Pick<RunResult, 'ms' | 'detail'>>, out: RunResult[]): Promise<void> {
  for (let run = 1; run <= runs; run++) {
    let result: RunResult;
    try {
      result = { scenario, run, ok: true, ...(await once()) };
    } catch (err) {
      result = { scenario, run, ok: false, error: (err as Error).message.split('\n')[0], ms: Number.NaN, detail: {} };
    }
    out.push(result);
    const details = Object.entries(result.detail).map(([k, v]) => `${k} ${typeof v === 'number' ? Math.round(v) : String(v)}`).join(', ');
    console.error(`  ${SCENARIOS[scenario]} ${run}/${runs}: ${result.ok ? `${Math.round(result.ms)} ms (${details})` : `FAILED: ${result.error}`}`);
  }
}

async function runLocal(options: RecoveryOptions, runs: RunResult[]): Promise<void> {
  const port = await freePort();
  const [browserP, serverP] = await Promise.allSettled([launchChromium(), startServer(SERVER_ENV, port)]);
  if (browserP.status === 'rejected' || serverP.status === 'rejected') {
    if (browserP.status === 'fulfilled') await browserP.value.close();
    if (serverP.status === 'fulfilled') await serverP.value.stop();
    throw browserP.status === 'rejected' ? browserP.reason : (serverP as PromiseRejectedResult).reason;
  }
  const [browser, server] = [browserP.value, serverP.value];
  const env: Env = { browser, port, server, timeoutMs: options.timeoutMs };
  try {
    if (options.only.includes('broker')) await repeat('broker', options.runs, () => brokerRestart(env), runs);
    if (options.only.includes('reload')) await repeat('reload', options.runs, () => reload(env), runs);
    for (const s of options.only.filter(isOutage)) await repeat(s, options.outageRuns, () => serverDown(env, OUTAGE_MS[s], options.calls), runs);
  } finally {
    await env.browser.close();
    await env.server.stop();
  }
}

async function runNetcut(options: RecoveryOptions, runs: RunResult[]): Promise<void> {
  const netns = createNetns(findBinary('ip')!, findBinary('nft')!);
  let server: ServerProcess | null = null;
  const browsers: Browser[] = [];
  try {
    // The server listens on the root side of the veth, reachable from both browsers.
    const port = await freePort();
    const url = `http://${netns.hostIp}:${port}`;
    // http://10.213.x.1 is not a secure context by default: both browsers are told to treat it as one.
    const secure = [`--unsafely-treat-insecure-origin-as-secure=${url}`];
    const started = await Promise.allSettled([startServer({ ...SERVER_ENV, HOST: netns.hostIp }, port), launchChromium(undefined, secure), launchChromium(netns.chromium, secure)]);
    for (const r of started.slice(1)) if (r.status === 'fulfilled') browsers.push(r.value as Browser);
    if (started[0].status === 'fulfilled') server = started[0].value;
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [outside, inside] = browsers as [Browser, Browser];
    const env: NetEnv = { netns, server: server!, outside, inside, cutMs: options.cutMs, timeoutMs: options.timeoutMs };
    await repeat('netcut', options.runs, () => networkCut(env), runs);
  } finally {
    for (const b of browsers) await b.close().catch(() => undefined);
    await server?.stop();
    netns.destroy();
  }
}

export async function main(argv: string[]): Promise<RecoveryReport> {
  const options = optionsFromArgs(argv);
  const m = machine();
  const runs: RunResult[] = [];
  if (options.only.some((s) => s !== 'netcut')) await runLocal(options, runs);
  const unavailable = options.only.includes('netcut') ? netcutUnavailable() : null;
  if (options.only.includes('netcut')) {
    if (unavailable) console.error(`  network cut: skipped, ${unavailable}`);
    else await runNetcut(options, runs);
  }
  const summaries = options.only.map((s) => summarize(s, runs.filter((r) => r.scenario === s), s === 'netcut' ? unavailable : null));
  const report: RecoveryReport = {
    machine: m,
    runsPerScenario: options.runs,
    runsPerOutage: options.outageRuns,
    pagesPerOutage: 2 * options.calls,
    cutSeconds: options.cutMs / 1000,
    summaries,
    runs,
  };
  printReport(report);
  saveReport('recovery', report, options.json);
  if (summaries.some((s) => !s.skipped && s.runs === 0)) throw new Error('a scenario never recovered in any run');
  return report;
}

runIfMain(import.meta, main);
