import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { newSecret } from '../../protocol/index';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';
import { freePort, REPO, startServer, type ServerProcess } from '../helpers/server';
import { expect, expectFramesFlowing, expectState, joinCall, newContext, startCall, test } from './fixtures';

const controlled = (page: Page) => page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });

test('the shell opens offline: Home says so and disables Start; a call link shows its pre-join offline', async ({ browser, server }) => {
  const ctx = await newContext(browser, server.url);
  try {
    const page = await ctx.newPage();
    await page.goto('/');
    await controlled(page);
    const start = page.getByRole('button', { name: 'Start a call' });
    await expect(start).toBeEnabled();

    await ctx.setOffline(true);
    await page.reload();
    await expect(page.getByRole('status')).toContainText('You’re offline');
    await expect(start).toBeDisabled();

    await page.goto(`/call#${newSecret()}`);
    await expect(page.getByRole('button', { name: /^Join/ })).toBeDisabled();
    await expect(page.getByRole('status')).toContainText('You’re offline');
    await expect(page.getByTestId('local-video')).toBeVisible();

    // Back online: the pre-join screen becomes ready by itself...
    await ctx.setOffline(false);
    await expect(page.getByRole('button', { name: /^Join/ })).toBeEnabled({ timeout: 15_000 });
    // ...and so does an offline Home, on the same page, with no reload.
    await ctx.setOffline(true);
    await page.goto('/');
    await expect(start).toBeDisabled();
    await ctx.setOffline(false);
    await expect(start).toBeEnabled();
    await expect(page.getByRole('status')).toHaveCount(0);
  } finally {
    await ctx.close();
  }
});

test('the app is installable, with a complete manifest and real icons', async ({ server }) => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-install-'));
  // Installability is not reported in incognito-like contexts: use a persistent profile.
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  try {
    const page = await ctx.newPage();
    await page.goto(server.url);
    await controlled(page);
    const cdp = await ctx.newCDPSession(page);
    await expect.poll(async () => (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors).toEqual([]);

    const manifest = await (await fetch(`${server.url}/manifest.webmanifest`)).json();
    expect(manifest).toMatchObject({ name: expect.any(String), short_name: 'Tandem', display: 'standalone', start_url: '/', scope: '/' });
    expect(manifest.description).toBeTruthy();
    expect(manifest.theme_color).toMatch(/^#/);
    expect(manifest.background_color).toMatch(/^#/);
    const sizes = new Map<string, { w: number; h: number }>();
    for (const icon of manifest.icons as Array<{ src: string; sizes: string; purpose?: string }>) {
      const png = Buffer.from(await (await fetch(`${server.url}/${icon.src}`)).arrayBuffer());
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      const dims = { w: png.readUInt32BE(16), h: png.readUInt32BE(20) }; // IHDR
      expect(`${dims.w}x${dims.h}`).toBe(icon.sizes);
      sizes.set(`${icon.sizes}${icon.purpose === 'maskable' ? ' maskable' : ''}`, dims);
    }
    expect([...sizes.keys()]).toEqual(expect.arrayContaining(['192x192', '512x512', '512x512 maskable']));
    const apple = await page.locator('link[rel="apple-touch-icon"]').getAttribute('href');
    expect((await fetch(`${server.url}${apple}`)).status).toBe(200);
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Build B = build A with a changed index.html, and the service worker's precache revision to match. */
function makeBuildB(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-build-b-'));
  cpSync(join(REPO, 'dist'), dir, { recursive: true });
  const html = readFileSync(join(dir, 'index.html'), 'utf8').replace('<head>', '<head><meta name="tandem-build" content="B">');
  writeFileSync(join(dir, 'index.html'), html);
  const sw = readFileSync(join(dir, 'sw.js'), 'utf8');
  const bumped = sw.replace(/\{"revision":"[0-9a-f]+","url":"index.html"\}/, '{"revision":"build-b","url":"index.html"}');
  expect(bumped).not.toBe(sw);
  writeFileSync(join(dir, 'sw.js'), bumped);
  return dir;
}

test('an update waits until the call ends, then Reload activates it', async ({ browser }) => {
  const port = await freePort();
  const buildB = makeBuildB();
  let server: ServerProcess = await startServer({}, port);
  const alice = await newContext(browser, server.url);
  const bob = await newContext(browser, server.url);
  try {
    const a = await alice.newPage();
    const b = await bob.newPage();
    await a.goto('/');
    await controlled(a);
    const link = await startCall(a);
    await joinCall(b, link);
    await expectState(a, 'connected');

    // Redeploy with build B on the same origin while the call runs.
    await server.stop();
    server = await startServer({ DIST_DIR: buildB }, port);
    await a.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await a.waitForFunction(async () => (await navigator.serviceWorker.getRegistration())?.waiting != null, null, { timeout: 15_000 });
    await expectFramesFlowing(a); // the call is untouched
    await expect(a.getByText('A new version is available')).toHaveCount(0);

    await a.getByRole('button', { name: 'Hang up' }).click();
    await a.getByRole('button', { name: 'Back to start' }).click();
    await expect(a.getByText('A new version is available')).toBeVisible();
    await a.getByRole('button', { name: 'Reload' }).click();
    await expect(a.locator('meta[name="tandem-build"]')).toHaveAttribute('content', 'B', { timeout: 15_000 });
    await expect(a.getByRole('button', { name: 'Start a call' })).toBeVisible();
  } finally {
    await alice.close();
    await bob.close();
    await server.stop();
    rmSync(buildB, { recursive: true, force: true });
  }
});
