import { chromium, test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { BASE_ARGS, chromiumPath } from '../helpers/chromium';
import { startServer, type ServerProcess } from '../helpers/server';

/**
 * Test-only instrumentation, injected before any page script: remembers every
 * RTCPeerConnection the app creates so a test can read getStats(). The app
 * itself exposes no such hook.
 */
export const TRACK_PEER_CONNECTIONS = `(() => {
  const pcs = [];
  Object.defineProperty(window, '__pcs', { value: pcs });
  const Orig = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Orig {
    constructor(...args) { super(...args); pcs.push(this); }
  };
})();`;

export interface Stats {
  framesDecoded: number;
  audioPackets: number;
  frameWidth: number;
  frameHeight: number;
  framesPerSecond: number;
  outboundAudioEnabled: boolean | null;
  candidateType: string | null;
}

export const test = base.extend<{ peer: () => Promise<Page> }, { server: ServerProcess }>({
  server: [
    async ({}, use) => {
      const server = await startServer();
      await use(server);
      await server.stop();
    },
    { scope: 'worker' },
  ],
  peer: async ({ browser, server }, use, testInfo) => {
    const contexts: BrowserContext[] = [];
    const logs: string[] = [];
    await use(async () => {
      const ctx = await newContext(browser, server.url);
      contexts.push(ctx);
      const page = await ctx.newPage();
      const n = contexts.length;
      page.on('console', (m) => logs.push(`[peer ${n}] ${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`[peer ${n}] pageerror: ${e.message}`));
      return page;
    });
    // A failed call test explains itself with both sides' debug logs.
    if (testInfo.status !== testInfo.expectedStatus) console.log(logs.join('\n'));
    for (const c of contexts) await c.close().catch(() => undefined);
  },
});

export { expect };

export async function newContext(browser: Browser, baseURL: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  const ctx = await browser.newContext({ baseURL, ...options });
  await ctx.addInitScript(TRACK_PEER_CONNECTIONS);
  await ctx.addInitScript(() => localStorage.setItem('tandem.debug', '1'));
  return ctx;
}

/**
 * A Chromium of its own, launched with `args` on top of BASE_ARGS (no fake UI,
 * no fake devices, an insecure origin…): how a test makes a failure the shared
 * browser can't show. Closed whatever `fn` does.
 */
export async function withChromium(args: string[], fn: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...BASE_ARGS, ...args] });
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

export const callScreen = (page: Page) => page.getByTestId('call-screen');

export async function expectState(page: Page, state: string, timeout = 15_000): Promise<void> {
  await expect(callScreen(page)).toHaveAttribute('data-state', state, { timeout });
}

/** Taps "Start a call" and returns the link shown to share. */
export async function startCall(page: Page): Promise<string> {
  await page.goto('/');
  await page.getByRole('button', { name: 'Start a call' }).click();
  await expectState(page, 'waiting');
  const link = await page.getByTestId('call-link').textContent();
  if (!link) throw new Error('no call link shown');
  return link;
}

/** Hang up a call that connected: the "Call ended" screen, then Back to start (Home). */
export async function hangUp(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Hang up' }).click();
  await page.getByTestId('call-ended').getByRole('button', { name: 'Back to start' }).click();
  await expect(page.getByRole('button', { name: 'Start a call' })).toBeVisible();
}

export async function joinCall(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.getByRole('button', { name: /^Join/ }).click();
}

export async function stats(page: Page): Promise<Stats> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
    const out = { framesDecoded: 0, audioPackets: 0, frameWidth: 0, frameHeight: 0, framesPerSecond: 0, outboundAudioEnabled: null as boolean | null, candidateType: null as string | null };
    if (!pc) return out;
    const report = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
    for (const s of byId.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.framesDecoded += (s.framesDecoded as number) ?? 0;
        out.frameWidth = (s.frameWidth as number) ?? out.frameWidth;
        out.frameHeight = (s.frameHeight as number) ?? out.frameHeight;
        out.framesPerSecond = (s.framesPerSecond as number) ?? out.framesPerSecond;
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets += (s.packetsReceived as number) ?? 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = byId.get(s.selectedCandidatePairId as string);
        const local = pair && byId.get(pair.localCandidateId as string);
        out.candidateType = (local?.candidateType as string) ?? null;
      }
    }
    const audioSender = pc.getSenders().find((x) => x.track?.kind === 'audio');
    out.outboundAudioEnabled = audioSender?.track ? audioSender.track.enabled : null;
    return out;
  });
}

/** Waits until the page decodes at least `more` new remote video frames. */
export async function expectFramesFlowing(page: Page, more = 10, timeout = 15_000): Promise<number> {
  const start = (await stats(page)).framesDecoded;
  await expect.poll(async () => (await stats(page)).framesDecoded, { timeout, message: 'remote video frames decoded' }).toBeGreaterThan(start + more);
  return (await stats(page)).framesDecoded;
}

export async function expectAudioFlowing(page: Page, more = 10, timeout = 15_000): Promise<void> {
  const start = (await stats(page)).audioPackets;
  await expect.poll(async () => (await stats(page)).audioPackets, { timeout, message: 'remote audio packets received' }).toBeGreaterThan(start + more);
}

/** Two people in a connected call, both decoding the other's video. */
export async function connectedPair(peer: () => Promise<Page>): Promise<{ alice: Page; bob: Page; link: string }> {
  const alice = await peer();
  const bob = await peer();
  const link = await startCall(alice);
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await expectState(bob, 'connected');
  await expectFramesFlowing(alice, 5);
  await expectFramesFlowing(bob, 5);
  return { alice, bob, link };
}

/** Offers and answers a page has sent so far (the app exposes the count as data-negotiations). */
export async function negotiations(page: Page): Promise<number> {
  return Number(await callScreen(page).getAttribute('data-negotiations'));
}

/** Resolves when `page` decodes no new remote frame for `quietMs` (frames stopped), polling stats. */
export async function expectFramesStopped(page: Page, quietMs = 1500, timeout = 10_000): Promise<void> {
  let last = -1;
  let since = Date.now();
  await expect
    .poll(
      async () => {
        const f = (await stats(page)).framesDecoded;
        if (f !== last) {
          last = f;
          since = Date.now();
        }
        return Date.now() - since;
      },
      { timeout, intervals: [250], message: 'remote video frames stopped' },
    )
    .toBeGreaterThanOrEqual(quietMs);
}

/** The label of the video track the page is sending right now. */
export async function sentVideoLabel(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
    const t = pc?.getTransceivers().find((x) => x.receiver.track.kind === 'video');
    return t?.sender.track?.label ?? null;
  });
}

const fingerprintOf = (page: Page, which: 'localDescription' | 'remoteDescription') =>
  page.evaluate((w) => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const sdp = [...pcs].reverse().find((p) => p.connectionState !== 'closed')?.[w]?.sdp ?? '';
    return /^a=fingerprint:sha-256 (\S+)/m.exec(sdp)?.[1] ?? '';
  }, which);
/** The sha-256 DTLS fingerprint in the page's current local / remote description. */
export const localFingerprint = (page: Page) => fingerprintOf(page, 'localDescription');
export const remoteFingerprint = (page: Page) => fingerprintOf(page, 'remoteDescription');

/**
 * Records every data-state the call screen takes from now on; the returned
 * function reads them. For "this must never show" checks, where polling the
 * attribute could miss a short-lived state.
 */
export async function recordStates(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __states: string[] }).__states = seen;
    const el = document.querySelector('[data-testid=call-screen]')!;
    new MutationObserver(() => seen.push(el.getAttribute('data-state') ?? '')).observe(el, { attributes: true, attributeFilter: ['data-state'] });
  });
  return () => page.evaluate(() => [...(window as unknown as { __states: string[] }).__states]);
}
