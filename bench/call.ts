/**
 * Benchmark 1 (issue 7): call setup time, from the joiner's "Join" to the
 * first decoded remote frame on BOTH sides (the later of the two), in
 * headless Chromium with fake camera and microphone.
 *
 *   npm run bench:call                 # 20 runs of each variant
 *   npm run bench:call -- --runs 40
 *   npm run bench:call -- --smoke      # 2 runs each, for the test suite
 *   npm run bench:call -- --signaling-rtt 100   # issue 14: +100 ms signaling round trip (a delaying TCP
 *                                      # proxy in front of our server and PeerJS's, a delayed relay for (b))
 *   npm run bench:call -- --media-trace --runs 5   # + when video was first encoded/sent/received/decoded
 *                                      # (getStats every 20 ms in every page: for diagnosis, it perturbs the timing)
 *
 * Four variants, interleaved run by run (ours, a, b, c, ours, a, ...), each
 * in fresh browser contexts, all prepared the same way before the clock
 * starts: camera and microphone open (a self view shows them, as in the app),
 * the waiting side's offer made and its host candidates gathered.
 *
 *   ours  The app and the real server process (STUN_URLS empty, so host
 *         candidates only). A taps "Start a call"; B opens the link and
 *         waits on the pre-join screen until its signaling is ready: the
 *         room SUBACK and A's retained offer received, TURN/STUN config
 *         fetched. t0 = the click event of "Join" in B's page.
 *   (a)   In-page loopback: two RTCPeerConnections in one page, SDP and
 *         candidates handed over directly, tracks both ways. t0 = the start
 *         of the negotiation (the offer is made after t0). The floor.
 *   (b)   Ideal signaling: two contexts; A's offer made and gathered before
 *         t0; at t0 B gets it, answers, and the answer and B's candidates are
 *         handed to A by this process (exposeBinding + evaluate), no broker.
 *   (c)   PeerJS 1.5 (npm `peerjs`) with its server (npm `peer`) in this
 *         process. Both peers open before t0; at t0 B calls A with its
 *         stream, A answers with its own. iceServers [] as for ours.
 *
 * First frames: requestVideoFrameCallback on each remote <video>, timed with
 * Date.now() in the page (all pages run on this machine, one clock). Every
 * page also records its RTCPeerConnection calls and WebSocket frames
 * (bench/lib/browser.ts), which gives the phase breakdown and, for ours, the
 * signaling messages sent between Join and the first frame.
 */
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PeerServer } from 'peer';
import { freePort, startServer } from '../tests/helpers/server';
import { launchChromium } from './lib/browser';
import { median, phasesOf, signalingOf, summarize, workOf, type RunResult, type Signaling, type VariantSummary } from './lib/call-analysis';
import { ORDER, RUNNERS, VARIANTS, type BenchEnv, type Variant } from './lib/call-variants';
import { formatNumber, machine, machineLine, positiveInt, table } from './lib/report';
import { parseBenchArgs, runIfMain, saveReport } from './lib/runner';
import { startDelayProxy, type DelayProxy } from '../tests/netlab/delay-proxy';

export { VARIANTS, type Variant } from './lib/call-variants';
export type { Phases, RunResult, Signaling, VariantSummary, Work } from './lib/call-analysis';

/** Targets from issue 7: ours ≤ 1.0× (b) at p50, and faster than PeerJS. */
export const TARGETS = { idealRatioP50: 1.0 } as const;

export interface CallBenchReport {
  machine: ReturnType<typeof machine>;
  runsPerVariant: number;
  /** Added signaling round trip (issue 14), ms. */
  signalingRttMs: number;
  summaries: VariantSummary[];
  ratios: { vs: Variant; p50: number; p95: number }[];
  met: { idealP50: boolean; fasterThanPeerjs: boolean };
  signaling: Record<keyof Signaling, number | null> | null;
  /** Ours: the most frequent joiner state sequence after Join, and how many runs loaded each script after Join. */
  joinerStates: { sequence: string; runs: number } | null;
  joinerScripts: Record<string, number>;
  runs: RunResult[];
}

export interface CallBenchOptions {
  runs: number;
  json: string;
  timeoutMs: number;
  settleMs: number;
  mediaTrace: boolean;
  /** Added signaling round trip, ms (0: none). */
  signalingRttMs: number;
}

export function optionsFromArgs(argv: string[]): CallBenchOptions {
  const args = parseBenchArgs(argv, { runs: '20', timeout: '20', settle: '300', 'media-trace': false, 'signaling-rtt': '0' });
  return {
    runs: args.smoke ? 2 : positiveInt(args.runs, 'runs'),
    json: args.json,
    timeoutMs: positiveInt(args.timeout, 'timeout') * 1000,
    // The quiet time before t0 is the same for every variant; smoke runs only check that everything works.
    settleMs: args.smoke ? 100 : Number(args.settle),
    mediaTrace: args['media-trace'],
    signalingRttMs: Number(args['signaling-rtt']),
  };
}

function startPeerServer(port: number): Promise<Server> {
  return new Promise((resolve) => {
    PeerServer({ port, host: '127.0.0.1', path: '/', key: 'peerjs', allow_discovery: false }, (server) => resolve(server as Server));
  });
}

const ms = (n: number | null): string => (n === null || !Number.isFinite(n) ? '–' : `${Math.round(n)}`);

export function printReport(report: CallBenchReport): void {
  console.log(`\nCall setup benchmark · ${machineLine(report.machine)}`);
  console.log(
    `Join → first decoded remote frame on both sides (requestVideoFrameCallback), headless Chromium, fake 1280×720 camera + mic, host candidates only, ` +
      `${report.runsPerVariant} runs per variant interleaved. Only ${report.machine.nproc} cores run both pages' encoders, decoders and renderers (and the server).\n`,
  );
  console.log(
    table(
      ['variant', 'runs', 'failed', 'p50 ms', 'p95 ms', 'min', 'max', 'caller p50', 'joiner p50'],
      report.summaries.map((s) => [s.name, s.runs, s.failed, Math.round(s.p50), Math.round(s.p95), Math.round(s.min), Math.round(s.max), Math.round(s.callerP50), Math.round(s.joinerP50)]),
    ),
  );
  console.log('\nOurs relative to each reference (target: ≤ 1.0× (b) at p50, and faster than PeerJS)\n');
  console.log(
    table(
      ['ours / …', 'p50', 'p95'],
      report.ratios.map((r) => [VARIANTS[r.vs], `${formatNumber(r.p50)}×`, `${formatNumber(r.p95)}×`]),
    ),
  );
  const yes = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log(`\nours ≤ 1.0× (b) at p50: ${yes(report.met.idealP50)} · ours faster than PeerJS at p50: ${yes(report.met.fasterThanPeerjs)}`);
  const ring = report.summaries.find((s) => s.variant === 'ring');
  const link = report.summaries.find((s) => s.variant === 'ours');
  if (ring && link && ring.runs > 0) {
    console.log(
      `Ringing a saved contact, Answer → first frame: p50 ${Math.round(ring.p50)} ms vs a link's Join → first frame ${Math.round(link.p50)} ms (${formatNumber(ring.p50 / link.p50)}×; Answer also opens the camera, which a link's pre-join screen had already opened)`,
    );
  }
  if (report.signalingRttMs > 0) {
    const peerjs = report.ratios.find((r) => r.vs === 'peerjs')!;
    console.log(`with +${report.signalingRttMs} ms signaling round trip: ours ÷ PeerJS at p50 ${formatNumber(peerjs.p50)}× (issue 14 goal ≤ 0.7×: ${yes(peerjs.p50 <= 0.7)})`);
  }
  console.log('\nWhere the time goes: median ms from t0 at which each step was reached (both sides where it applies)\n');
  const p = (s: VariantSummary) => s.phases;
  console.log(
    table(
      ['variant', 'joiner PC', 'offer ready', 'offer at A', 'answer ready', 'answer at offerer', 'ICE connected', 'DTLS connected', '1st frame in', '1st frame shown'],
      report.summaries.map((s) => [
        s.name,
        ms(p(s).joinerPc),
        ms(p(s).offerReady),
        ms(p(s).offerDelivered),
        ms(p(s).answerReady),
        ms(p(s).answerDelivered),
        ms(p(s).iceConnected),
        ms(p(s).connected),
        ms(p(s).frameReceived),
        ms(p(s).firstFrame),
      ]),
    ),
  );
  if (report.summaries.some((s) => s.phases.toJoinerEncoded !== null)) {
    console.log('\n--media-trace: median ms from t0 at which each direction\'s video was first encoded, sent, received, decoded (getStats every 20 ms) and presented\n');
    console.log(
      table(
        ['variant', 'video', 'encoded', 'sent', 'received', 'decoded', 'presented'],
        report.summaries.flatMap((s) => [
          [s.name, 'A → B', ms(p(s).toJoinerEncoded), ms(p(s).toJoinerSent), ms(p(s).toJoinerReceived), ms(p(s).toJoinerDecoded), ms(p(s).joinerFrame)],
          ['', 'B → A', ms(p(s).toCallerEncoded), ms(p(s).toCallerSent), ms(p(s).toCallerReceived), ms(p(s).toCallerDecoded), ms(p(s).callerFrame)],
        ]),
      ),
    );
  }
  console.log('\nWork between t0 and the later first frame (medians): remote candidates applied, main-thread long tasks\n');
  console.log(
    table(
      ['variant', 'addIceCandidate B / A', 'long tasks B / A (ms)'],
      report.summaries.map((s) => [s.name, `${ms(s.work.joinerAddCandidates)} / ${ms(s.work.callerAddCandidates)}`, `${ms(s.work.joinerLongTaskMs)} / ${ms(s.work.callerLongTaskMs)}`]),
    ),
  );
  if (report.signaling) {
    const g = report.signaling;
    console.log('\nOurs: MQTT packets between Join and the later first frame, and the answer\'s way from B to A (medians)\n');
    console.log(
      table(
        ['PUBLISH B→ / A→', 'received by B / A', 'received by B before its answer', 'answer: seal + send', 'answer: WS + broker + WS', 'answer: open + dispatch'],
        [[`${ms(g.joinerPublishes)} / ${ms(g.callerPublishes)}`, `${ms(g.joinerReceived)} / ${ms(g.callerReceived)}`, ms(g.joinerReceivedBeforeAnswer), `${ms(g.answerSealMs)} ms`, `${ms(g.answerBrokerMs)} ms`, `${ms(g.answerOpenMs)} ms`]],
      ),
    );
  }
  if (report.joinerStates) {
    const n = report.runs.filter((r) => r.variant === 'ours' && r.ok).length;
    const scripts = Object.entries(report.joinerScripts).map(([f, k]) => `${f} (${k}/${n})`);
    console.log(`\nOurs, the joiner from Join to its first frame: call screen ${report.joinerStates.sequence} (${report.joinerStates.runs}/${n} runs); scripts loaded: ${scripts.join(', ') || 'none'}`);
  }
  const failures = report.runs.filter((r) => !r.ok);
  for (const f of failures) console.log(`\nrun ${f.run} of ${VARIANTS[f.variant]} failed: ${f.error}`);
}

export async function main(argv: string[]): Promise<CallBenchReport> {
  const options = optionsFromArgs(argv);
  const m = machine();
  const require = createRequire(import.meta.url);
  const peerjsScript = readFileSync(require.resolve('peerjs/dist/peerjs.min.js'), 'utf8');
  // The real server process, no STUN: host candidates only, as for every reference.
  const peerPort = await freePort();
  const started = await Promise.allSettled([
    startServer({ STUN_URLS: '', LOG_LEVEL: 'warn', ICE_RATE_LIMIT: '100000' }),
    startPeerServer(peerPort),
    launchChromium(),
  ] as const);
  const [serverP, peerServerP, browserP] = started;
  if (serverP.status === 'rejected' || peerServerP.status === 'rejected' || browserP.status === 'rejected') {
    if (serverP.status === 'fulfilled') await serverP.value.stop();
    if (peerServerP.status === 'fulfilled') peerServerP.value.close();
    if (browserP.status === 'fulfilled') await browserP.value.close();
    throw started.map((r) => (r.status === 'rejected' ? r.reason : null)).find((e) => e !== null);
  }
  const [server, peerServer, browser] = [serverP.value, peerServerP.value, browserP.value];
  const runs: RunResult[] = [];
  const proxies: DelayProxy[] = [];
  try {
    // Issue 14: every signaling path gets the same added round trip (half each way).
    const oneWay = options.signalingRttMs / 2;
    const proxied = oneWay > 0 ? [await startDelayProxy({ host: '127.0.0.1', port: server.port }, oneWay), await startDelayProxy({ host: '127.0.0.1', port: peerPort }, oneWay)] : [];
    proxies.push(...proxied);
    const env: BenchEnv = {
      browser,
      server: proxied[0] ? { ...server, url: proxied[0].url } : server,
      peerPort: proxied[1]?.port ?? peerPort,
      peerjsScript,
      timeoutMs: options.timeoutMs,
      settleMs: options.settleMs,
      mediaTrace: options.mediaTrace,
      relayDelayMs: oneWay,
    };
    if (oneWay > 0) console.error(`signaling round trip +${options.signalingRttMs} ms (proxies ${proxied.map((p) => p.port).join(', ')})`);
    for (let run = 1; run <= options.runs; run++) {
      for (const variant of ORDER) {
        let result: RunResult;
        try {
          const measured = await RUNNERS[variant](env);
          const phases = phasesOf(measured);
          result = {
            variant,
            run,
            ok: true,
            setupMs: Math.max(measured.callerFrame, measured.joinerFrame) - measured.t0,
            callerMs: measured.callerFrame - measured.t0,
            joinerMs: measured.joinerFrame - measured.t0,
            phases,
            work: workOf(measured),
            ...(measured.clickOverheadMs !== undefined ? { clickOverheadMs: measured.clickOverheadMs } : {}),
            ...(variant === 'ours' ? { signaling: signalingOf(measured, phases), joinerStates: (measured.joinerStates ?? []).join('→'), joinerScripts: measured.joinerScripts ?? [] } : {}),
          };
        } catch (err) {
          result = { variant, run, ok: false, error: (err as Error).message.split('\n')[0], setupMs: Number.NaN, callerMs: Number.NaN, joinerMs: Number.NaN };
        }
        runs.push(result);
        console.error(`  run ${run}/${options.runs} ${VARIANTS[variant]}: ${result.ok ? `${Math.round(result.setupMs)} ms (A ${Math.round(result.callerMs)}, B ${Math.round(result.joinerMs)})` : `FAILED: ${result.error}`}`);
      }
    }
  } finally {
    await browser.close();
    for (const p of proxies) await p.close();
    // Every page is closed, so no PeerJS socket should hold the server open; don't wait forever if one does.
    await Promise.race([new Promise<void>((resolve) => peerServer.close(() => resolve())), new Promise((r) => setTimeout(r, 1000))]);
    await server.stop();
  }

  const summaries = ORDER.map((v) => summarize(v, runs.filter((r) => r.variant === v)));
  const by = (v: Variant) => summaries.find((s) => s.variant === v)!;
  const ours = by('ours');
  const ratios = (['loopback', 'ideal', 'peerjs'] as const).map((vs) => ({ vs, p50: ours.p50 / by(vs).p50, p95: ours.p95 / by(vs).p95 }));
  const oursRuns = runs.filter((r) => r.variant === 'ours' && r.ok && r.signaling);
  const sigKeys = ['joinerPublishes', 'callerPublishes', 'joinerReceived', 'callerReceived', 'joinerReceivedBeforeAnswer', 'answerSealMs', 'answerBrokerMs', 'answerOpenMs'] as const;
  const signaling = oursRuns.length === 0 ? null : (Object.fromEntries(sigKeys.map((k) => [k, median(oursRuns.map((r) => r.signaling![k]))])) as CallBenchReport['signaling']);
  const sequences = new Map<string, number>();
  const scripts: Record<string, number> = {};
  for (const r of oursRuns) {
    sequences.set(r.joinerStates ?? '', (sequences.get(r.joinerStates ?? '') ?? 0) + 1);
    // Content-hashed names: group by the part before the hash (CallPage-DOE9K7cE.js → CallPage.js).
    for (const name of new Set((r.joinerScripts ?? []).map((f) => f.replace(/-[\w-]{8}\.js$/, '.js')))) scripts[name] = (scripts[name] ?? 0) + 1;
  }
  const topSequence = [...sequences].sort((x, y) => y[1] - x[1])[0];
  const report: CallBenchReport = {
    machine: m,
    runsPerVariant: options.runs,
    signalingRttMs: options.signalingRttMs,
    summaries,
    ratios,
    met: { idealP50: ours.p50 <= TARGETS.idealRatioP50 * by('ideal').p50, fasterThanPeerjs: ours.p50 < by('peerjs').p50 },
    signaling,
    joinerStates: topSequence ? { sequence: topSequence[0], runs: topSequence[1] } : null,
    joinerScripts: scripts,
    runs,
  };
  printReport(report);
  saveReport('call', report, options.json);
  const failed = runs.filter((r) => !r.ok).length;
  if (summaries.some((s) => s.runs === 0)) throw new Error(`a variant never completed a run (${failed} failed runs)`);
  return report;
}

runIfMain(import.meta, main);
