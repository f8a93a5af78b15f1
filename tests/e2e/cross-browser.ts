/**
 * One call page, whichever browser drives it: Playwright's Chromium or
 * Firefox ESR through puppeteer-core. Checks are written once against this
 * and read what a person sees (data-state, badges, the code) plus getStats.
 */
import type { Page } from '@playwright/test';
import type { ElementHandle, Browser as PuppeteerBrowser, Page as PuppeteerPage } from 'puppeteer-core';
import { TRACK_PEER_CONNECTIONS } from './fixtures';

export interface Side {
  readonly name: string;
  goto(url: string): Promise<void>;
  /** Clicks the button with this accessible name (aria-label, else its text), as a user would. */
  click(name: string | RegExp): Promise<void>;
  run<T, A = undefined>(fn: (arg: A) => T | Promise<T>, arg?: A): Promise<T>;
  /** What the page shows and logged, for a failed check's message. */
  describe(): Promise<string>;
}

const SCREEN_TEXT = () => `${location.pathname}${location.hash ? '#…' : ''}: ${document.body?.innerText.replace(/\s+/g, ' ').slice(0, 400) ?? '(no body)'}`;
/** The page's path and text (SCREEN_TEXT run by either driver's evaluate), or why it couldn't be read. */
const screenText = (evaluate: (fn: typeof SCREEN_TEXT) => Promise<string>) => evaluate(SCREEN_TEXT).catch((e: Error) => `(page unreadable: ${e.message})`);

export function chromiumSide(page: Page): Side {
  return {
    name: 'Chromium',
    goto: async (url) => void (await page.goto(url)),
    click: (name) => page.getByRole('button', { name }).click(),
    run: (fn, arg) => page.evaluate(fn as never, arg) as never,
    describe: () => screenText((fn) => page.evaluate(fn)),
  };
}

/** Finds a visible, enabled button by accessible name, in the page. */
const BUTTON_BY_NAME = (q: { source: string; flags: string }): HTMLButtonElement | null =>
  [...document.querySelectorAll('button')].find((b) => {
    const name = b.getAttribute('aria-label') ?? b.textContent?.trim() ?? '';
    return new RegExp(q.source, q.flags).test(name) && !b.disabled && b.getClientRects().length > 0;
  }) ?? null;

export async function firefoxSide(browser: PuppeteerBrowser, baseURL: string): Promise<Side & { page: PuppeteerPage }> {
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(TRACK_PEER_CONNECTIONS);
  await page.evaluateOnNewDocument(() => localStorage.setItem('tandem.debug', '1'));
  // Firefox's console and uncaught errors, the last 40, for a failed check's message.
  const log: string[] = [];
  const keep = (line: string) => log.push(line) > 40 && log.shift();
  page.on('console', (m) => keep(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => keep(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
  return {
    name: 'Firefox',
    page,
    goto: async (url) => void (await page.goto(new URL(url, baseURL).href)),
    click: async (name) => {
      const re = typeof name === 'string' ? new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : name;
      const q = { source: re.source, flags: re.flags };
      const handle = await page.waitForFunction(BUTTON_BY_NAME, { timeout: 15_000 }, q);
      // A locator clicks only once the box has stopped moving and the button is enabled:
      // Home's layout can still shift after first paint, and a plain handle click then hits
      // whatever moved under the old coordinates.
      await (handle.asElement() as ElementHandle<Element>).asLocator().setTimeout(15_000).click();
      await handle.dispose();
    },
    run: (fn, arg) => page.evaluate(fn as never, arg) as never,
    describe: async () => `${await screenText((fn) => page.evaluate(fn))}\n  console:\n    ${log.join('\n    ')}`,
  };
}

// ---- what the page shows -------------------------------------------------

export const state = (s: Side) => s.run(() => document.querySelector('[data-testid=call-screen]')?.getAttribute('data-state') ?? null);
export const shown = (s: Side, testId: string) => s.run((id) => document.querySelectorAll(`[data-testid="${id}"]`).length, testId);
export const negotiations = (s: Side) => s.run(() => Number(document.querySelector('[data-testid=call-screen]')?.getAttribute('data-negotiations') ?? 0));
export const verification = (s: Side) => s.run(() => document.querySelector('[data-testid=call-screen]')?.getAttribute('data-verification') ?? null);
export const codeText = (s: Side) => s.run(() => document.querySelector('[data-testid=verification-code]')?.getAttribute('data-code') || null);
export const hasButton = (s: Side, name: string) => s.run((n) => [...document.querySelectorAll('button')].some((b) => b.getAttribute('aria-label') === n), name);

/** Remote video frames decoded so far, from the newest open RTCPeerConnection's getStats. */
export const framesDecoded = (s: Side) =>
  s.run(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
    if (!pc) return 0;
    let frames = 0;
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') frames += (r.framesDecoded as number) ?? 0;
    });
    return frames;
  });

/**
 * Remote video frames the page has painted (requestVideoFrameCallback's
 * presentedFrames on the remote <video>): what the person sees, and the same
 * measure in both engines.
 */
export const framesPresented = (s: Side) =>
  s.run(() => {
    type Counted = HTMLVideoElement & { __presented?: number };
    const video = document.querySelector<Counted>('[data-testid=remote-video]');
    if (!video) return 0;
    if (video.__presented === undefined) {
      video.__presented = 0;
      const tick = (_now: number, meta: { presentedFrames: number }) => {
        video.__presented = meta.presentedFrames;
        video.requestVideoFrameCallback(tick);
      };
      video.requestVideoFrameCallback(tick);
    }
    return video.__presented;
  });

/** Remote audio decoded so far: samples received, and how many of them the decoder had to make up (concealed). */
export const audioReceived = (s: Side) =>
  s.run(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
    const out = { samples: 0, concealed: 0, codec: '' };
    if (!pc) return out;
    const report = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((r: Record<string, unknown>) => report.set(r.id as string, r));
    for (const r of report.values()) {
      if (r.type !== 'inbound-rtp' || r.kind !== 'audio') continue;
      out.samples += (r.totalSamplesReceived as number) ?? 0;
      out.concealed += (r.concealedSamples as number) ?? 0;
      out.codec = String(report.get(String(r.codecId))?.mimeType ?? '');
    }
    return out;
  });

/** The label of the camera the page sends now (null with the camera off). */
export const sentVideoLabel = (s: Side) =>
  s.run(() => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
    return pc?.getTransceivers().find((t) => t.receiver.track.kind === 'video')?.sender.track?.label ?? null;
  });

/** Fires the browser's own `online` event: the app treats it as a network change and restarts ICE. */
export const networkChange = (s: Side) => s.run(() => void dispatchEvent(new Event('online')));
