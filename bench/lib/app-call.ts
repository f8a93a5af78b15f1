/**
 * Driving the real app in a benchmark, as tests/e2e/fixtures.ts does in the
 * tests (that file is bound to Playwright Test's runner, so the few steps a
 * benchmark needs are here): start a call, join it, wait for the call screen's
 * data-state / data-signaling, wait for frames.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { newBenchContext, waitForFramesDecoded, waitInPage } from './browser';

const SCREEN = `document.querySelector('[data-testid=call-screen]')`;

/** Resolves with the page's Date.now() when the call screen's `attribute` is `value`. */
export function waitForScreen(page: Page, attribute: 'data-state' | 'data-signaling', value: string, timeoutMs: number): Promise<number> {
  return waitInPage(page, `${SCREEN}?.getAttribute(${JSON.stringify(attribute)}) === ${JSON.stringify(value)}`, timeoutMs, `${attribute}="${value}"`);
}

/** Resolves with the page's Date.now() once the call screen's `attribute` is no longer `value` (the page noticed a loss). */
export function waitForScreenLeaving(page: Page, attribute: 'data-state' | 'data-signaling', value: string, timeoutMs: number): Promise<number> {
  return waitInPage(page, `${SCREEN}?.getAttribute(${JSON.stringify(attribute)}) !== ${JSON.stringify(value)}`, timeoutMs, `${attribute} to leave "${value}"`);
}

export async function screenAttribute(page: Page, attribute: 'data-state' | 'data-signaling'): Promise<string | null> {
  return page.evaluate(`${SCREEN}?.getAttribute(${JSON.stringify(attribute)}) ?? null`) as Promise<string | null>;
}

/** Taps "Start a call" and returns the link to share. */
export async function startCall(page: Page, timeoutMs: number): Promise<string> {
  await page.goto('/');
  await page.getByRole('button', { name: 'Start a call' }).click();
  await waitForScreen(page, 'data-state', 'waiting', timeoutMs);
  const link = await page.getByTestId('call-link').textContent();
  if (!link) throw new Error('no call link shown');
  return link;
}

export async function joinCall(page: Page, link: string, timeoutMs: number): Promise<void> {
  await page.goto(link);
  await page.getByRole('button', { name: /^Join/ }).click({ timeout: timeoutMs });
}

export interface CallPair {
  alice: Page;
  bob: Page;
  contexts: BrowserContext[];
  close(): Promise<void>;
}

/** Alice starts a call in `browserA`, Bob joins from `browserB`; resolves once both are connected and decoding. */
export async function connectedPair(browserA: Browser, browserB: Browser, baseURL: string, timeoutMs: number): Promise<CallPair> {
  const ca = await newBenchContext(browserA, baseURL);
  const cb = await newBenchContext(browserB, baseURL);
  const close = async () => {
    await ca.close().catch(() => undefined);
    await cb.close().catch(() => undefined);
  };
  try {
    const alice = await ca.newPage();
    const bob = await cb.newPage();
    const link = await startCall(alice, timeoutMs);
    await joinCall(bob, link, timeoutMs);
    await Promise.all([waitForScreen(alice, 'data-state', 'connected', timeoutMs), waitForScreen(bob, 'data-state', 'connected', timeoutMs)]);
    await Promise.all([waitForFramesDecoded(alice, 5, timeoutMs, 'alice decoding'), waitForFramesDecoded(bob, 5, timeoutMs, 'bob decoding')]);
    return { alice, bob, contexts: [ca, cb], close };
  } catch (err) {
    await close();
    throw err;
  }
}
