/**
 * What the browser benchmarks (bench/call.ts, bench/recovery.ts) share:
 * headless Chromium with fake media, contexts with test-only instrumentation
 * injected before any page script, and readers for what it recorded.
 *
 * The instrumentation (INSTRUMENT) never changes what a page does; it only
 * records, with Date.now() (every page runs on this one machine, so all
 * clocks agree):
 *   - every RTCPeerConnection (window.__pcs, like tests/e2e/fixtures.ts) and a
 *     timeline (window.__tl) of its offers/answers, candidates and states;
 *   - every WebSocket frame in and out (the MQTT packets in it: type, size), so
 *     the signaling messages of one call can be counted and placed in time;
 *   - main-thread long tasks (> 50 ms), during which the page reacts to nothing;
 *   - the app's call screen data-state / data-signaling changes;
 *   - the first frame each remote <video data-testid="remote-video"> presents
 *     (requestVideoFrameCallback), in window.__firstFrames;
 *   - window.__framesTotal(): remote video frames decoded over all its connections;
 *   - window.__traceMedia(): optional, when video was first encoded/sent/received/decoded.
 */
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../../tests/helpers/chromium';

export const INSTRUMENT = `(() => {
  if (window.__tl) return;
  const tl = [];
  const pcs = [];
  const firstFrames = [];
  Object.defineProperty(window, '__tl', { value: tl });
  Object.defineProperty(window, '__pcs', { value: pcs });
  Object.defineProperty(window, '__firstFrames', { value: firstFrames });
  const log = (ev, d) => tl.push({ t: Date.now(), ev, ...d });

  const Orig = window.RTCPeerConnection;
  let n = 0;
  window.RTCPeerConnection = class extends Orig {
    constructor(...args) {
      super(...args);
      const id = n++;
      Object.defineProperty(this, '__id', { value: id });
      pcs.push(this);
      log('pc', { pc: id });
      this.addEventListener('iceconnectionstatechange', () => log('ice', { pc: id, s: this.iceConnectionState }));
      this.addEventListener('connectionstatechange', () => log('conn', { pc: id, s: this.connectionState }));
      this.addEventListener('icegatheringstatechange', () => log('gathering', { pc: id, s: this.iceGatheringState }));
      this.addEventListener('icecandidate', (e) => log('local-candidate', { pc: id, end: !e.candidate || !e.candidate.candidate }));
      this.addEventListener('track', (e) => log('track', { pc: id, kind: e.track.kind }));
    }
  };
  const P = Orig.prototype;
  for (const m of ['setRemoteDescription', 'setLocalDescription', 'addIceCandidate']) {
    const f = P[m];
    P[m] = function (...args) {
      const pc = this.__id;
      const given = args[0] && args[0].type;
      log(m, { pc, type: given, phase: 'start' });
      const r = f.apply(this, args);
      Promise.resolve(r).then(
        () => log(m, { pc, type: given || (m === 'setLocalDescription' && this.localDescription ? this.localDescription.type : undefined), phase: 'done' }),
        (e) => log(m, { pc, type: given, phase: 'error', error: String(e) }),
      );
      return r;
    };
  }

  // MQTT over WebSocket: one frame may carry several packets (mqtt.js coalesces
  // writes) and the broker may batch too. Each packet: type in the first byte's
  // high nibble (3 PUBLISH, 4 PUBACK, 9 SUBACK...), then its remaining length.
  const packetsOf = (bytes) => {
    const out = [];
    let i = 0;
    while (i < bytes.length) {
      const type = bytes[i] >> 4;
      let len = 0, mul = 1, j = i + 1;
      for (; j < bytes.length && j < i + 5; j++) {
        len += (bytes[j] & 127) * mul;
        mul *= 128;
        if ((bytes[j] & 128) === 0) break;
      }
      const size = j + 1 - i + len;
      out.push([type, size]);
      i += size;
    }
    return out;
  };
  const head = (data) => {
    let bytes = null;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes) {
      const packets = packetsOf(bytes);
      return { type: packets.length ? packets[0][0] : -1, bytes: bytes.length, packets };
    }
    if (typeof data === 'string') return { type: 'text', bytes: data.length };
    return { type: 'blob', bytes: data && data.size };
  };
  const OrigWs = window.WebSocket;
  let w = 0;
  window.WebSocket = class extends OrigWs {
    constructor(...args) {
      super(...args);
      const ws = w++;
      Object.defineProperty(this, '__ws', { value: ws });
      log('ws-open-start', { ws, url: String(args[0]).replace(/[?#].*/, '') });
      this.addEventListener('open', () => log('ws-open', { ws }));
      this.addEventListener('close', () => log('ws-close', { ws }));
      this.addEventListener('message', (e) => log('ws-in', { ws, ...head(e.data) }));
    }
    send(data) {
      log('ws-out', { ws: this.__ws, ...head(data) });
      return super.send(data);
    }
  };

  // Main-thread tasks over 50 ms: time the page could not react to anything.
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) tl.push({ t: Math.round(performance.timeOrigin + e.startTime), ev: 'longtask', ms: Math.round(e.duration) });
    }).observe({ type: 'longtask', buffered: true });
  } catch {}

  const lastFrames = new Map();
  Object.defineProperty(window, '__framesTotal', {
    value: async (fromPc = 0) => {
      const mine = pcs.slice(fromPc);
      for (const pc of mine) {
        if (pc.connectionState === 'closed') continue;
        let n = 0;
        try {
          (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
        } catch { continue; }
        lastFrames.set(pc, Math.max(n, lastFrames.get(pc) || 0));
      }
      return mine.reduce((total, pc) => total + (lastFrames.get(pc) || 0), 0);
    },
  });

  // Optional (it costs a getStats() per connection every 20 ms): when each connection
  // first encoded, sent, received and decoded video. Call window.__traceMedia() at t0.
  Object.defineProperty(window, '__traceMedia', {
    value: (ms = 8000) => {
      const seen = new Map();
      const stop = Date.now() + ms;
      const mark = (pc, what) => {
        const key = pc.__id + what;
        if (seen.has(key)) return;
        seen.set(key, true);
        log('media', { pc: pc.__id, what });
      };
      const poll = async () => {
        for (const pc of pcs) {
          if (pc.connectionState === 'closed') continue;
          try {
            (await pc.getStats()).forEach((s) => {
              if (s.kind !== 'video') return;
              if (s.type === 'outbound-rtp' && s.framesEncoded > 0) mark(pc, 'encoded');
              if (s.type === 'outbound-rtp' && s.packetsSent > 0) mark(pc, 'sent');
              if (s.type === 'inbound-rtp' && s.packetsReceived > 0) mark(pc, 'received');
              if (s.type === 'inbound-rtp' && s.framesDecoded > 0) mark(pc, 'decoded');
            });
          } catch {}
        }
        if (Date.now() < stop && (pcs.length === 0 || seen.size < 4 * pcs.length)) setTimeout(poll, 20);
      };
      poll();
    },
  });

  const watched = new WeakSet();
  const watch = (v) => {
    if (watched.has(v) || !('requestVideoFrameCallback' in v)) return;
    watched.add(v);
    v.requestVideoFrameCallback((now, meta) => {
      const t = Date.now();
      const side = v.dataset.side || 'remote';
      // WebRTC frames also say when their packets arrived (receiveTime): network vs decode + render.
      const received = typeof meta.receiveTime === 'number' ? Math.round(performance.timeOrigin + meta.receiveTime) : null;
      firstFrames.push({ t, side, width: meta.width, height: meta.height, received });
      log('first-frame', { side });
    });
  };
  const scan = () => document.querySelectorAll('video[data-testid="remote-video"]').forEach(watch);
  const start = () => {
    scan();
    new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
    // The app's call screen states (data-state, data-signaling), as the person would see them change.
    const attrs = ['data-state', 'data-signaling'];
    const last = {};
    const screen = (el) => attrs.forEach((a) => {
      if (!el.hasAttribute(a)) return;
      last[a] = el.getAttribute(a);
      log('screen', { attr: a, value: last[a] });
    });
    new MutationObserver((records) => {
      // Values are read after the fact: a value that was set and replaced within one task is only
      // seen as the next record's oldValue, so rebuild the sequence from oldValues.
      const seq = { 'data-state': [], 'data-signaling': [] };
      for (const r of records) {
        if (r.type === 'attributes' && r.target.getAttribute('data-testid') === 'call-screen') seq[r.attributeName].push(r.oldValue, r.target);
        if (r.type === 'childList') r.addedNodes.forEach((n) => {
          if (n.nodeType !== 1) return;
          const el = n.matches('[data-testid=call-screen]') ? n : n.querySelector('[data-testid=call-screen]');
          if (el) screen(el);
        });
      }
      for (const a of attrs) {
        const xs = seq[a];
        for (let i = 0; i < xs.length; i += 2) {
          const value = i + 2 < xs.length ? xs[i + 2] : xs[i + 1].getAttribute(a);
          if (last[a] !== value) log('screen', { attr: a, value });
          last[a] = value;
        }
      }
    }).observe(document.documentElement, { attributes: true, attributeOldValue: true, attributeFilter: attrs, childList: true, subtree: true });
  };
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start);
})();`;

export interface TimelineEvent {
  t: number;
  ev: string;
  pc?: number;
  ws?: number;
  type?: string | number;
  phase?: 'start' | 'done' | 'error';
  s?: string;
  bytes?: number;
  side?: string;
  end?: boolean;
  /** WebSocket frames: the MQTT packets in it, [type, bytes] each. */
  packets?: [number, number][];
  /** Long tasks: duration. */
  ms?: number;
  /** Media trace: 'encoded' | 'sent' | 'received' | 'decoded'. */
  what?: string;
  /** Call screen changes: which attribute, its new value. */
  attr?: string;
  value?: string | null;
  [key: string]: unknown;
}

export interface FirstFrame {
  /** Date.now() in the callback: the frame was presented. */
  t: number;
  side: string;
  width: number;
  height: number;
  /** Date.now() equivalent of the frame's receiveTime (its last packet arrived), where the browser reports it. */
  received: number | null;
}

export function launchChromium(executablePath = chromiumPath(), extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

export interface BenchContextOptions {
  /** Pages that load a script from elsewhere (PeerJS) on a page of our server, whose CSP would refuse it. */
  bypassCSP?: boolean;
}

/**
 * A fresh context with the instrumentation. Service workers are blocked: the
 * app's precache (~470 KiB, once per fresh profile) would download in the
 * background of every run and add noise unrelated to calls.
 */
export async function newBenchContext(browser: Browser, baseURL: string, options: BenchContextOptions = {}): Promise<BrowserContext> {
  const ctx = await browser.newContext({ baseURL, serviceWorkers: 'block', bypassCSP: options.bypassCSP ?? false });
  await ctx.addInitScript({ content: INSTRUMENT });
  return ctx;
}

export const timeline = (page: Page): Promise<TimelineEvent[]> => page.evaluate('window.__tl') as Promise<TimelineEvent[]>;
export const firstFrames = (page: Page): Promise<FirstFrame[]> => page.evaluate('window.__firstFrames') as Promise<FirstFrame[]>;

/**
 * Resolves with the page's Date.now() at the moment the JavaScript
 * expression `condition` was first seen true in `page`, checked in the page
 * every 10 ms. (page.waitForFunction evaluates its predicate with eval(),
 * which the app's CSP refuses; an expression sent through page.evaluate is
 * compiled by DevTools, which CSP does not govern.)
 */
export async function waitInPage(page: Page, condition: string, timeoutMs: number, what = condition): Promise<number> {
  const at = await page.evaluate(`new Promise((resolve) => {
    const deadline = Date.now() + ${timeoutMs};
    const check = () => {
      if (${condition}) return resolve(Date.now());
      if (Date.now() > deadline) return resolve(null);
      setTimeout(check, 10);
    };
    check();
  })`);
  if (typeof at !== 'number') throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  return at;
}

/** Waits until `page` has presented a first remote frame on `count` remote videos. */
export async function waitForFirstFrames(page: Page, count: number, timeoutMs: number): Promise<FirstFrame[]> {
  await waitInPage(page, `window.__firstFrames.length >= ${count}`, timeoutMs, `${count} first remote frame(s)`);
  return firstFrames(page);
}

/**
 * Remote video frames decoded so far by every RTCPeerConnection the page has
 * made (getStats inbound-rtp framesDecoded, as tests/e2e/fixtures.ts counts
 * them), or only by those from the `fromPc`-th on (0-based, in creation order).
 * A connection that was closed keeps the last count read from it, so the
 * total only grows, across rebuilt connections too.
 */
export function framesDecoded(page: Page, fromPc = 0): Promise<number> {
  return page.evaluate(`window.__framesTotal(${fromPc})`) as Promise<number>;
}

/** RTCPeerConnections the page has made so far. */
export const pcCount = (page: Page): Promise<number> => page.evaluate('window.__pcs.length') as Promise<number>;

/**
 * Resolves with the page's Date.now() when framesDecoded(page, fromPc) has
 * reached `target`, polled in the page every 20 ms; throws after `timeoutMs`.
 */
export async function waitForFramesDecoded(page: Page, target: number, timeoutMs: number, what: string, fromPc = 0): Promise<number> {
  const at = await page.evaluate(`(async () => {
    const deadline = Date.now() + ${timeoutMs};
    for (;;) {
      if ((await window.__framesTotal(${fromPc})) >= ${target}) return Date.now();
      if (Date.now() > deadline) return null;
      await new Promise((r) => setTimeout(r, 20));
    }
  })()`);
  if (typeof at !== 'number') throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${target} frames decoded)`);
  return at;
}
