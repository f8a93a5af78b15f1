/**
 * The four variants of the call setup benchmark (bench/call.ts): how each one
 * prepares two peers, when its clock starts (t0) and what it records. Each
 * runs in fresh browser contexts of one Chromium and returns both pages'
 * timelines (bench/lib/browser.ts) and first remote frames.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import type { ServerProcess } from '../../tests/helpers/server';
import { newBenchContext, timeline, waitForFirstFrames, waitInPage, type FirstFrame, type TimelineEvent } from './browser';
import { runRing } from './ring-variant';

export const VARIANTS = {
  ours: 'Tandem (app + our server, MQTT)',
  ring: 'Tandem, ringing a saved contact (Answer)',
  loopback: '(a) in-page loopback',
  ideal: '(b) ideal signaling, 2 contexts',
  peerjs: '(c) PeerJS 1.5 + peer server',
} as const;
export type Variant = keyof typeof VARIANTS;
export const ORDER: Variant[] = ['ours', 'ring', 'loopback', 'ideal', 'peerjs'];

/**
 * The reference variants' page code (a, b, c), injected into a blank page of
 * our server. Same camera/microphone request as the app (app/media/devices.ts),
 * a self view per peer as the app shows one, and a remote <video> per peer
 * that the instrumentation watches for its first frame.
 */
export const REF_PAGE = `(() => {
  if (window.__ref) return;
  const MEDIA = {
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 }, facingMode: 'user' },
  };
  const streams = {};
  const pcs = {};
  const queued = {};
  const video = (side, kind) => {
    const v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = kind === 'self';
    v.setAttribute('data-testid', kind === 'self' ? 'local-video' : 'remote-video');
    v.dataset.side = side;
    v.style.width = '320px';
    document.body.append(v);
    return v;
  };
  const show = (side, stream) => {
    const v = document.querySelector('video[data-testid="remote-video"][data-side="' + side + '"]');
    if (!stream || v.srcObject === stream) return;
    v.srcObject = stream;
    v.play().catch((e) => console.warn('remote play failed', String(e)));
  };
  const ref = {
    t0: null,
    async media(side) {
      const s = await navigator.mediaDevices.getUserMedia(MEDIA);
      streams[side] = s;
      const self = video(side, 'self');
      self.srcObject = s;
      await self.play().catch(() => undefined);
      video(side, 'remote');
      return true;
    },
    pc(side, onCandidate) {
      const pc = new RTCPeerConnection({ iceServers: [] });
      pcs[side] = pc;
      queued[side] = [];
      pc.addEventListener('track', (e) => show(side, e.streams[0]));
      pc.addEventListener('icecandidate', (e) => { if (e.candidate && e.candidate.candidate) onCandidate(e.candidate.toJSON()); });
      return pc;
    },
    addTracks(side) {
      for (const t of streams[side].getTracks()) pcs[side].addTrack(t, streams[side]);
    },
    gathered(pc) {
      return pc.iceGatheringState === 'complete' ? Promise.resolve() : new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
    },

    // (a) loopback: A and B in this page.
    async loopback() {
      ref.t0 = Date.now();
      const a = ref.pc('A', (c) => void pcs.B.addIceCandidate(c));
      const b = ref.pc('B', (c) => void pcs.A.addIceCandidate(c));
      ref.addTracks('A');
      await a.setLocalDescription();
      await b.setRemoteDescription(a.localDescription);
      ref.addTracks('B');
      await b.setLocalDescription();
      await a.setRemoteDescription(b.localDescription);
      return ref.t0;
    },

    // (b) ideal signaling: window.__relay (exposeBinding) carries messages to the other page.
    async prepareOffer() {
      // All of A's candidates are in its offer, gathered before t0 (as in our retained offer).
      const pc = ref.pc('A', () => undefined);
      ref.addTracks('A');
      await pc.setLocalDescription();
      await ref.gathered(pc);
      return pc.localDescription.sdp;
    },
    async answer(sdp) {
      ref.t0 = Date.now();
      const pc = ref.pc('B', (c) => window.__relay({ type: 'candidate', candidate: c }));
      await pc.setRemoteDescription({ type: 'offer', sdp });
      ref.addTracks('B');
      await pc.setLocalDescription();
      window.__relay({ type: 'answer', sdp: pc.localDescription.sdp });
      return ref.t0;
    },
    receive(side, m) {
      const pc = pcs[side];
      if (m.type === 'answer') {
        const applied = pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        for (const c of queued[side].splice(0)) void pc.addIceCandidate(c);
        return applied.then(() => true);
      }
      if (!pc.remoteDescription && pc.signalingState !== 'stable') queued[side].push(m.candidate);
      else void pc.addIceCandidate(m.candidate);
      return true;
    },

    // (c) PeerJS: peerjs.min.js defines window.Peer.
    peerOpen(side, id, port) {
      return new Promise((resolve, reject) => {
        const peer = new window.Peer(id, { host: '127.0.0.1', port, path: '/', key: 'peerjs', secure: false, config: { iceServers: [] }, debug: 0 });
        ref.peer = peer;
        peer.on('open', () => resolve(true));
        peer.on('error', (e) => reject(new Error(String(e && e.type) + ': ' + String(e))));
        peer.on('call', (call) => {
          call.on('stream', (s) => show(side, s));
          call.answer(streams[side]);
        });
      });
    },
    peerCall(side, to) {
      ref.t0 = Date.now();
      const call = ref.peer.call(to, streams[side]);
      call.on('stream', (s) => show(side, s));
      return ref.t0;
    },
  };
  window.__ref = ref;
})();`;

const js = (value: unknown): string => JSON.stringify(value ?? null);

export interface BenchEnv {
  browser: Browser;
  server: ServerProcess;
  peerPort: number;
  peerjsScript: string;
  timeoutMs: number;
  settleMs: number;
  /** Start window.__traceMedia() in every page at t0 (adds getStats polling: diagnosis only). */
  mediaTrace: boolean;
  /** (b)'s relay holds each message this long (issue 14: signaling delay), ms. */
  relayDelayMs?: number;
}

/** What one run saw: t0 and each side's timeline and first remote frame. */
export interface Measured {
  t0: number;
  caller: TimelineEvent[];
  joiner: TimelineEvent[];
  callerFrame: number;
  joinerFrame: number;
  /** When the first frame's packets arrived (null if not reported). */
  callerReceived: number | null;
  joinerReceived: number | null;
  /** Ours: the joiner's call screen states after Join, and the scripts its page loaded after Join. */
  joinerStates?: string[];
  joinerScripts?: string[];
  /** Who made the offer: A (ours, b) or B (PeerJS: the caller offers). Loopback: A. */
  offerer: 'caller' | 'joiner';
  clickOverheadMs?: number;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms)); // equal quiet time before t0 in every variant, not a wait for an outcome

async function refPage(ctx: BrowserContext, server: ServerProcess): Promise<Page> {
  const page = await ctx.newPage();
  page.on('console', (m) => m.type() === 'warning' && console.error(`  [page] ${m.text()}`));
  await page.goto(`${server.url}/healthz`);
  await page.evaluate(REF_PAGE);
  return page;
}

async function trace(env: BenchEnv, ...pages: Page[]): Promise<void> {
  if (env.mediaTrace) for (const p of pages) await p.evaluate('window.__traceMedia()');
}

const first = (frames: FirstFrame[], side?: string): FirstFrame => {
  const f = frames.find((x) => side === undefined || x.side === side);
  if (!f) throw new Error(`no first frame${side ? ` for ${side}` : ''}`);
  return f;
};

const framesOf = (caller: FirstFrame, joiner: FirstFrame) => ({ callerFrame: caller.t, joinerFrame: joiner.t, callerReceived: caller.received, joinerReceived: joiner.received });

async function runOurs(env: BenchEnv): Promise<Measured> {
  const ca = await newBenchContext(env.browser, env.server.url);
  const cb = await newBenchContext(env.browser, env.server.url);
  try {
    const a = await ca.newPage();
    const b = await cb.newPage();
    await a.goto('/');
    await a.getByRole('button', { name: 'Start a call' }).click();
    await a.locator('[data-testid=call-screen][data-state=waiting]').waitFor({ timeout: env.timeoutMs });
    const link = await a.getByTestId('call-link').textContent();
    if (!link) throw new Error('no call link shown');
    // A's retained offer is complete (all host candidates in it) once gathering is.
    await waitInPage(a, `window.__pcs.length > 0 && window.__pcs[window.__pcs.length - 1].iceGatheringState === 'complete'`, env.timeoutMs, 'caller gathering');

    await b.goto(link);
    const join = b.getByRole('button', { name: /^Join/ });
    await join.waitFor({ timeout: env.timeoutMs });
    // Pre-join ready: button enabled and the broker connection up (CONNACK, 2). Since issue 11 the
    // room's SUBSCRIBE, the retained offer and /api/ice come after the Join tap (opening a link
    // takes no place and reads nothing), so they are part of the measured time.
    await waitInPage(
      b,
      `(() => {
        const button = [...document.querySelectorAll('button')].find((x) => /^Join/.test(x.textContent));
        if (!button || button.disabled) return false;
        return window.__tl.some((e) => e.ev === 'ws-in' && e.packets && e.packets.some((p) => p[0] === 2));
      })()`,
      env.timeoutMs,
      'pre-join ready (CONNACK)',
    );
    await settle(env.settleMs);
    await b.evaluate(`addEventListener('click', () => { window.__t0 ??= Date.now(); }, { capture: true })`);
    await trace(env, a, b);
    const before = Date.now();
    await join.click();
    const [fa, fb] = await Promise.all([waitForFirstFrames(a, 1, env.timeoutMs), waitForFirstFrames(b, 1, env.timeoutMs)]);
    const t0 = (await b.evaluate('window.__t0')) as number;
    const joiner = await timeline(b);
    const joinerStates = joiner.filter((e) => e.ev === 'screen' && e.attr === 'data-state' && e.t >= t0 && e.t <= first(fb).t).map((e) => String(e.value)).filter((v, i, xs) => i === 0 || xs[i - 1] !== v);
    const joinerScripts = (await b.evaluate(
      `performance.getEntriesByType('resource').filter((r) => performance.timeOrigin + r.startTime >= ${t0} && /\\.js$/.test(new URL(r.name).pathname)).map((r) => new URL(r.name).pathname.split('/').pop())`,
    )) as string[];
    return { t0, caller: await timeline(a), joiner, ...framesOf(first(fa), first(fb)), offerer: 'caller', clickOverheadMs: t0 - before, joinerStates, joinerScripts };
  } finally {
    await ca.close();
    await cb.close();
  }
}

async function runLoopback(env: BenchEnv): Promise<Measured> {
  const ctx = await newBenchContext(env.browser, env.server.url);
  try {
    const page = await refPage(ctx, env.server);
    await page.evaluate(`Promise.all([window.__ref.media('A'), window.__ref.media('B')])`);
    await settle(env.settleMs);
    await trace(env, page);
    const t0 = (await page.evaluate('window.__ref.loopback()')) as number;
    const frames = await waitForFirstFrames(page, 2, env.timeoutMs);
    const tl = await timeline(page);
    // pc 0 is A's (the offerer), pc 1 is B's; "ice"/"conn"/SDP events carry the pc id.
    const of = (pc: number) => tl.filter((e) => e.pc === undefined || e.pc === pc);
    return { t0, caller: of(0), joiner: of(1), ...framesOf(first(frames, 'A'), first(frames, 'B')), offerer: 'caller' };
  } finally {
    await ctx.close();
  }
}

async function runIdeal(env: BenchEnv): Promise<Measured> {
  const ca = await newBenchContext(env.browser, env.server.url);
  const cb = await newBenchContext(env.browser, env.server.url);
  try {
    const a = await refPage(ca, env.server);
    const b = await refPage(cb, env.server);
    // The benchmark is the signaling channel: whatever one page relays is evaluated in the other.
    const deliver = (to: Page, side: string, message: unknown) => void to.evaluate(`window.__ref.receive(${js(side)}, ${js(message)})`).catch(() => undefined);
    const relay = (to: Page, side: string) => (_source: unknown, message: unknown) =>
      env.relayDelayMs ? void setTimeout(() => deliver(to, side, message), env.relayDelayMs) : deliver(to, side, message);
    await a.exposeBinding('__relay', relay(b, 'B'));
    await b.exposeBinding('__relay', relay(a, 'A'));
    await Promise.all([a.evaluate(`window.__ref.media('A')`), b.evaluate(`window.__ref.media('B')`)]);
    const offer = (await a.evaluate('window.__ref.prepareOffer()')) as string;
    await settle(env.settleMs);
    await trace(env, a, b);
    // The offer was published before t0 (as our retained offer): no delay to add for it.
    const t0 = (await b.evaluate(`window.__ref.answer(${js(offer)})`)) as number;
    const [fa, fb] = await Promise.all([waitForFirstFrames(a, 1, env.timeoutMs), waitForFirstFrames(b, 1, env.timeoutMs)]);
    return { t0, caller: await timeline(a), joiner: await timeline(b), ...framesOf(first(fa), first(fb)), offerer: 'caller' };
  } finally {
    await ca.close();
    await cb.close();
  }
}

async function runPeerjs(env: BenchEnv): Promise<Measured> {
  const ca = await newBenchContext(env.browser, env.server.url, { bypassCSP: true });
  const cb = await newBenchContext(env.browser, env.server.url, { bypassCSP: true });
  try {
    const a = await refPage(ca, env.server);
    const b = await refPage(cb, env.server);
    await a.addScriptTag({ content: env.peerjsScript });
    await b.addScriptTag({ content: env.peerjsScript });
    const idA = `a${randomBytes(6).toString('hex')}`;
    const idB = `b${randomBytes(6).toString('hex')}`;
    await Promise.all([a.evaluate(`window.__ref.media('A')`), b.evaluate(`window.__ref.media('B')`)]);
    await Promise.all([a.evaluate(`window.__ref.peerOpen('A', ${js(idA)}, ${env.peerPort})`), b.evaluate(`window.__ref.peerOpen('B', ${js(idB)}, ${env.peerPort})`)]);
    await settle(env.settleMs);
    await trace(env, a, b);
    const t0 = (await b.evaluate(`window.__ref.peerCall('B', ${js(idA)})`)) as number;
    const [fa, fb] = await Promise.all([waitForFirstFrames(a, 1, env.timeoutMs), waitForFirstFrames(b, 1, env.timeoutMs)]);
    return { t0, caller: await timeline(a), joiner: await timeline(b), ...framesOf(first(fa), first(fb)), offerer: 'joiner' };
  } finally {
    await ca.close();
    await cb.close();
  }
}

export const RUNNERS: Record<Variant, (env: BenchEnv) => Promise<Measured>> = { ours: runOurs, ring: runRing, loopback: runLoopback, ideal: runIdeal, peerjs: runPeerjs };
