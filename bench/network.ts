/**
 * Issue 14: calls on impaired links, ours against a plain reference page
 * with browser defaults, side by side in one run (a report, not a gate).
 *
 *   npm run bench:network                  # 300/150/100 kbit/s × 0/5 % loss, 20 s windows
 *   npm run bench:network -- --window 30   # longer windows
 *   npm run bench:network -- --smoke       # one link, short window
 *   npm run bench:network -- --links 300/0,100/5   # only these links (kbit/s / loss %)
 *
 * The network lab (tests/netlab/README.md): Bob's Chromium in a namespace
 * behind a capped, lossy veth, Alice's outside, the real server between.
 * For each link and each variant: a fresh call is connected on a clean link,
 * then the link is impaired; after `settle` seconds (the drop's transition,
 * which is the same for both), one window measures on both receivers:
 * audio concealment (concealedSamples / totalSamplesReceived), video freeze
 * time (totalFreezesDuration) and decoded fps. Variants alternate per link.
 *
 *   ours       the app (Opus FEC/DTX, audio priority, the weak-link pause).
 *   reference  the same camera and microphone request, one RTCPeerConnection
 *              per page, browser defaults, SDP handed over by this process.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { requireBinary } from '../tests/helpers/binaries';
import { BASE_ARGS, chromiumPath, FAKE_MEDIA_ARGS } from '../tests/helpers/chromium';
import { createNetns, type Netns } from '../tests/helpers/netns';
import { freePort, startServer, type ServerProcess } from '../tests/helpers/server';
import { ImpairedLink, type Impairment } from '../tests/netlab/link';
import { connectedPair } from './lib/app-call';
import { newBenchContext, waitForFramesDecoded } from './lib/browser';
import { REF_PAGE } from './lib/call-variants';
import { formatNumber, machine, machineLine, positiveInt, table } from './lib/report';
import { parseBenchArgs, runIfMain, saveReport } from './lib/runner';

export type NetVariant = 'ours' | 'reference';

export interface Side {
  concealment: number;
  freezeS: number;
  fps: number;
  /** ours: the share of samples in which this receiver showed "Video paused: weak connection". */
  pausedShare: number | null;
  /** Mean audio jitter-buffer delay over the window (what the sound lags by), ms. */
  audioBufferMs: number;
  /** Keyframe requests (PLI) this receiver sent in the window: each one follows lost video. */
  pli: number;
  /** The decoded video's height at the window's end (0: none). */
  height: number;
}

export interface NetRun {
  link: Impairment;
  variant: NetVariant;
  ok: boolean;
  error?: string;
  /** Alice (outside) and Bob (inside, behind the link) as receivers. */
  alice?: Side;
  bob?: Side;
}

export interface NetworkReport {
  machine: ReturnType<typeof machine>;
  windowS: number;
  settleS: number;
  runs: NetRun[];
  /** ours ÷ reference, mean audio concealment of both receivers, per link. */
  ratios: Array<{ link: Impairment; concealment: number | null }>;
  goalMet: boolean;
}

const LINKS: Impairment[] = [300, 150, 100].flatMap((rateKbit) => [0, 5].map((lossPct) => ({ rateKbit, lossPct })));
/** `--links 300/0,100/5`: the rows to run, each one of LINKS (a typo is an error, not an empty run). */
function chosenLinks(list: string): Impairment[] {
  return list.split(',').map((item) => {
    const found = LINKS.find((l) => `${l.rateKbit}/${l.lossPct}` === item.trim());
    if (!found) throw new Error(`--links: ${item} is not one of ${LINKS.map((l) => `${l.rateKbit}/${l.lossPct}`).join(', ')}`);
    return found;
  });
}

const linkName = (l: Impairment) => `${l.rateKbit} kbit/s, ${l.lossPct} % loss`;

/** Counters of the page's live RTCPeerConnection (the same reading for both variants). */
const READ = `(async () => {
  const pc = [...window.__pcs].reverse().find((p) => p.connectionState !== 'closed');
  const out = { concealed: 0, samples: 0, frames: 0, freeze: 0, bufferS: 0, emitted: 0, pli: 0, height: 0, paused: !!document.querySelector('[data-testid=remote-video-paused]'), at: performance.now() };
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'audio') {
      out.concealed += s.concealedSamples ?? 0; out.samples += s.totalSamplesReceived ?? 0;
      out.bufferS += s.jitterBufferDelay ?? 0; out.emitted += s.jitterBufferEmittedCount ?? 0;
    }
    if (s.kind === 'video') { out.frames += s.framesDecoded ?? 0; out.freeze += s.totalFreezesDuration ?? 0; out.pli += s.pliCount ?? 0; out.height = Math.max(out.height, s.frameHeight ?? 0); }
  });
  return out;
})()`;
type Reading = { concealed: number; samples: number; frames: number; freeze: number; bufferS: number; emitted: number; pli: number; height: number; paused: boolean; at: number };

/** One window on a page: a reading a second, so "paused" is sampled too. */
async function measure(page: Page, seconds: number): Promise<Side> {
  const readings: Reading[] = [(await page.evaluate(READ)) as Reading];
  for (let i = 0; i < seconds; i++) {
    await page.waitForTimeout(1_000); // the measurement window
    readings.push((await page.evaluate(READ)) as Reading);
  }
  const a = readings[0]!;
  const b = readings[readings.length - 1]!;
  const s = (b.samples - a.samples) || 1;
  return {
    concealment: (b.concealed - a.concealed) / s,
    freezeS: b.freeze - a.freeze,
    fps: (b.frames - a.frames) / ((b.at - a.at) / 1000),
    pausedShare: readings.slice(1).filter((r) => r.paused).length / seconds,
    audioBufferMs: (1000 * (b.bufferS - a.bufferS)) / ((b.emitted - a.emitted) || 1),
    pli: b.pli - a.pli,
    height: b.height,
  };
}

interface Lab {
  link: ImpairedLink;
  server: ServerProcess;
  inside: Browser;
  outside: Browser;
}

async function referencePair(lab: Lab, timeoutMs: number): Promise<{ alice: Page; bob: Page; close: () => Promise<void> }> {
  const ca = await newBenchContext(lab.outside, lab.server.url);
  const cb = await newBenchContext(lab.inside, lab.server.url);
  const close = async () => {
    await ca.close().catch(() => undefined);
    await cb.close().catch(() => undefined);
  };
  try {
    const [alice, bob] = [await ca.newPage(), await cb.newPage()];
    for (const p of [alice, bob]) {
      await p.goto(`${lab.server.url}/healthz`);
      await p.evaluate(REF_PAGE);
    }
    const relay = (to: Page, side: string) => (_source: unknown, message: unknown) =>
      void to.evaluate(`window.__ref.receive(${JSON.stringify(side)}, ${JSON.stringify(message)})`).catch(() => undefined);
    await alice.exposeBinding('__relay', relay(bob, 'B'));
    await bob.exposeBinding('__relay', relay(alice, 'A'));
    await Promise.all([alice.evaluate(`window.__ref.media('A')`), bob.evaluate(`window.__ref.media('B')`)]);
    const offer = (await alice.evaluate('window.__ref.prepareOffer()')) as string;
    await bob.evaluate(`window.__ref.answer(${JSON.stringify(offer)})`);
    await Promise.all([waitForFramesDecoded(alice, 5, timeoutMs, 'alice decoding'), waitForFramesDecoded(bob, 5, timeoutMs, 'bob decoding')]);
    return { alice, bob, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function runOne(lab: Lab, variant: NetVariant, impairment: Impairment, o: { windowS: number; settleS: number; timeoutMs: number }): Promise<NetRun> {
  lab.link.clear();
  const pair = variant === 'ours' ? await connectedPair(lab.outside, lab.inside, lab.server.url, o.timeoutMs) : await referencePair(lab, o.timeoutMs);
  try {
    // Both ramp up on a clean link first, as a call would before the train enters the tunnel.
    await Promise.all([waitForFramesDecoded(pair.alice, 60, o.timeoutMs, 'alice ramped'), waitForFramesDecoded(pair.bob, 60, o.timeoutMs, 'bob ramped')]);
    lab.link.set(impairment);
    await pair.alice.waitForTimeout(o.settleS * 1000); // the drop's transition: the same for both variants
    const [alice, bob] = await Promise.all([measure(pair.alice, o.windowS), measure(pair.bob, o.windowS)]);
    if (variant === 'reference') {
      alice.pausedShare = null;
      bob.pausedShare = null;
    }
    return { link: impairment, variant, ok: true, alice, bob };
  } finally {
    lab.link.clear();
    await pair.close();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const meanConcealment = (r: NetRun) => (r.alice && r.bob ? (r.alice.concealment + r.bob.concealment) / 2 : null);

export function printReport(report: NetworkReport): void {
  console.log(`\nImpaired links · ${machineLine(report.machine)}`);
  console.log(`Both directions capped (tc tbf, 400 ms queue) and UDP loss (nftables) on Bob's link; a fresh call per row, ramped up on a clean link, then ${report.settleS} s after the drop a ${report.windowS} s window. Receivers: Alice / Bob.\n`);
  console.log(
    table(
      ['link', 'variant', 'audio concealed', 'audio buffer ms', 'video freezes s', 'fps', 'lines', 'PLIs', 'video paused (ours)'],
      report.runs.map((r) =>
        r.ok && r.alice && r.bob
          ? [
              linkName(r.link), r.variant, `${pct(r.alice.concealment)} / ${pct(r.bob.concealment)}`, `${r.alice.audioBufferMs.toFixed(0)} / ${r.bob.audioBufferMs.toFixed(0)}`,
              `${r.alice.freezeS.toFixed(1)} / ${r.bob.freezeS.toFixed(1)}`, `${r.alice.fps.toFixed(1)} / ${r.bob.fps.toFixed(1)}`, `${r.alice.height} / ${r.bob.height}`, `${r.alice.pli} / ${r.bob.pli}`,
              r.alice.pausedShare === null ? '–' : `${pct(r.alice.pausedShare)} / ${pct(r.bob.pausedShare!)}`,
            ]
          : [linkName(r.link), r.variant, `failed: ${r.error ?? ''}`.slice(0, 60), '', '', '', '', '', ''],
      ),
    ),
  );
  console.log('\nOurs ÷ reference, audio concealment (mean of both receivers); goal ≤ 0.5× on every link\n');
  console.log(table(['link', 'ours ÷ reference'], report.ratios.map((r) => [linkName(r.link), r.concealment === null ? '–' : `${formatNumber(r.concealment)}×`])));
  console.log(`\ngoal: ${report.goalMet ? 'met' : 'NOT met'} on every link`);
}

export async function main(argv: string[]): Promise<NetworkReport> {
  const args = parseBenchArgs(argv, { window: '20', settle: '5', timeout: '30', links: '' });
  const o = { windowS: args.smoke ? 3 : positiveInt(args.window, 'window'), settleS: args.smoke ? 1 : Number(args.settle), timeoutMs: positiveInt(args.timeout, 'timeout') * 1000 };
  const links = args.smoke ? [LINKS[1]!] : args.links ? chosenLinks(args.links) : LINKS;
  const ip = requireBinary('ip', { aptPackage: 'iproute2' });
  const tc = requireBinary('tc', { aptPackage: 'iproute2' });
  const nft = requireBinary('nft', { aptPackage: 'nftables' });
  if (!ip || !tc || !nft) throw new Error('bench:network needs ip, tc and nft (iproute2, nftables) and root');
  const netns: Netns = createNetns(ip, nft);
  const link = new ImpairedLink(netns, { ip, tc, nft });
  let server: ServerProcess | null = null;
  const browsers: Browser[] = [];
  const runs: NetRun[] = [];
  try {
    server = await startServer({ HOST: netns.hostIp, STUN_URLS: '', LOG_LEVEL: 'warn', ICE_RATE_LIMIT: '100000' }, await freePort());
    const args2 = [...BASE_ARGS, ...FAKE_MEDIA_ARGS, `--unsafely-treat-insecure-origin-as-secure=${server.url}`];
    const inside = await chromium.launch({ executablePath: netns.chromium, args: args2 });
    browsers.push(inside);
    const outside = await chromium.launch({ executablePath: chromiumPath(), args: args2 });
    browsers.push(outside);
    const lab: Lab = { link, server, inside, outside };
    for (const [i, l] of links.entries()) {
      // Alternate which variant goes first, so neither always runs on a warmer machine.
      const order: NetVariant[] = i % 2 === 0 ? ['ours', 'reference'] : ['reference', 'ours'];
      for (const variant of order) {
        try {
          runs.push(await runOne(lab, variant, l, o));
        } catch (e) {
          runs.push({ link: l, variant, ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
        }
        const r = runs[runs.length - 1]!;
        console.error(`  ${linkName(l)} ${variant}: ${r.ok ? `concealed ${pct(meanConcealment(r)!)}` : `failed (${r.error})`}`);
      }
    }
  } finally {
    for (const b of browsers) await b.close().catch(() => undefined);
    await server?.stop();
    link.clear();
    netns.destroy();
  }
  const ratios = links.map((l) => {
    const of = (v: NetVariant) => runs.find((r) => r.variant === v && r.link === l && r.ok);
    const ours = of('ours');
    const ref = of('reference');
    const c = ours && ref ? meanConcealment(ours)! / Math.max(meanConcealment(ref)!, 1e-4) : null;
    return { link: l, concealment: c };
  });
  const report: NetworkReport = { machine: machine(), windowS: o.windowS, settleS: o.settleS, runs, ratios, goalMet: ratios.every((r) => r.concealment !== null && r.concealment <= 0.5) };
  printReport(report);
  saveReport('network', report, args.json);
  return report;
}

runIfMain(import.meta, main);
