import type { Page } from '@playwright/test';
import { expect, expectState, joinCall, newContext, startCall, test } from './fixtures';

/**
 * Controls follow what the device can do: a button a device can't support is
 * not shown (never one that fails), and one it can support works. The
 * "device" is shaped with init scripts that remove or stub browser APIs.
 */

async function pageWith(browser: Parameters<typeof newContext>[0], url: string, script: string, permissions: string[] = []): Promise<Page> {
  const ctx = await newContext(browser, url);
  if (permissions.length > 0) await ctx.grantPermissions(permissions, { origin: url });
  await ctx.addInitScript(script);
  return ctx.newPage();
}

test('the waiting screen offers the share sheet only where the Web Share API exists, and Copy puts the link on the clipboard', async ({ browser, server }) => {
  const withShare = await pageWith(
    browser,
    server.url,
    `Object.defineProperty(Navigator.prototype, 'share', { configurable: true, value: async (data) => { window.__shared = data; } });`,
    ['clipboard-read', 'clipboard-write'],
  );
  const withoutShare = await pageWith(browser, server.url, `delete Navigator.prototype.share;`);
  try {
    const link = await startCall(withShare);
    // Share is the main button where it exists (issue 16): first, and styled as primary.
    const buttons = withShare.locator('.waiting-panel .row button');
    await expect(buttons.first()).toHaveText('Share link');
    await expect(buttons.first()).toHaveClass(/primary/);
    await expect(withShare.getByRole('button', { name: 'Copy link' })).toHaveClass(/secondary/);
    await withShare.getByRole('button', { name: 'Share link' }).click();
    await expect.poll(() => withShare.evaluate(() => (window as unknown as { __shared?: { url: string } }).__shared?.url)).toBe(link);
    await withShare.getByRole('button', { name: 'Copy link' }).click();
    await expect(withShare.getByRole('button', { name: 'Copied' })).toBeVisible();
    expect(await withShare.evaluate(() => navigator.clipboard.readText())).toBe(link);

    await startCall(withoutShare);
    await expect(withoutShare.getByRole('button', { name: 'Copy link' })).toBeVisible();
    await expect(withoutShare.getByRole('button', { name: 'Share link' })).toHaveCount(0);
  } finally {
    await withShare.context().close();
    await withoutShare.context().close();
  }
});

test('a phone with one camera and no screen capture gets no Switch camera or Share screen button; a laptop with both does', async ({ browser, server }) => {
  // One camera (the others filtered out of enumerateDevices) and no getDisplayMedia, as on most phones.
  const phone = await pageWith(
    browser,
    server.url,
    `delete MediaDevices.prototype.getDisplayMedia;
     const enumerate = MediaDevices.prototype.enumerateDevices;
     MediaDevices.prototype.enumerateDevices = async function () {
       let seen = false;
       return (await enumerate.call(this)).filter((d) => d.kind !== 'videoinput' || (!seen && (seen = true)));
     };`,
  );
  const laptop = await pageWith(browser, server.url, '');
  try {
    const link = await startCall(laptop);
    await joinCall(phone, link);
    await expectState(phone, 'connected');
    await expectState(laptop, 'connected');
    await expect(laptop.getByRole('button', { name: 'Switch camera' })).toBeVisible();
    await expect(laptop.getByRole('button', { name: 'Share screen' })).toBeVisible();
    await expect(phone.getByRole('button', { name: /Mute/ })).toBeVisible();
    await expect(phone.getByRole('button', { name: 'Switch camera' })).toHaveCount(0);
    await expect(phone.getByRole('button', { name: 'Share screen' })).toHaveCount(0);
  } finally {
    await phone.context().close();
    await laptop.context().close();
  }
});

/** A beforeinstallprompt as Chromium fires it, recording prompt() calls. */
const FIRE_INSTALL_PROMPT = () => {
  const e = new Event('beforeinstallprompt', { cancelable: true }) as Event & { prompt(): Promise<void>; userChoice: Promise<{ outcome: string }> };
  e.prompt = async () => {
    (window as unknown as { __prompted: number }).__prompted = ((window as unknown as { __prompted?: number }).__prompted ?? 0) + 1;
  };
  e.userChoice = Promise.resolve({ outcome: 'accepted' });
  dispatchEvent(e);
};

test('Install app where the browser offers it, an Add to Home Screen hint on iOS, and neither when already installed', async ({ browser, server }) => {
  const tab = await pageWith(browser, server.url, '');
  const ios = await pageWith(browser, server.url, `Object.defineProperty(Navigator.prototype, 'standalone', { configurable: true, get: () => false });`);
  const installed = await pageWith(
    browser,
    server.url,
    `const mm = window.matchMedia.bind(window);
     window.matchMedia = (q) => (q.includes('display-mode: standalone') ? { matches: true, media: q, addEventListener() {}, removeEventListener() {} } : mm(q));`,
  );
  try {
    // Chromium in a tab: the button appears with the browser's prompt, and using it spends the prompt.
    await tab.goto('/');
    await expect(tab.getByRole('button', { name: 'Start a call' })).toBeVisible();
    await expect(tab.getByRole('button', { name: 'Install app' })).toHaveCount(0);
    await tab.evaluate(FIRE_INSTALL_PROMPT);
    await tab.getByRole('button', { name: 'Install app' }).click();
    await expect.poll(() => tab.evaluate(() => (window as unknown as { __prompted?: number }).__prompted)).toBe(1);
    await expect(tab.getByRole('button', { name: 'Install app' })).toHaveCount(0);
    await expect(tab.getByTestId('ios-install-hint')).toHaveCount(0);

    // iOS Safari (navigator.standalone, never a prompt): the hint instead.
    await ios.goto('/');
    await expect(ios.getByTestId('ios-install-hint')).toContainText('Add to Home Screen');
    await expect(ios.getByRole('button', { name: 'Install app' })).toHaveCount(0);

    // Running from the home screen: nothing to install.
    await installed.goto('/');
    await expect(installed.getByRole('button', { name: 'Start a call' })).toBeVisible();
    await installed.evaluate(FIRE_INSTALL_PROMPT);
    await expect(installed.getByRole('button', { name: 'Install app' })).toHaveCount(0);
    await expect(installed.getByTestId('ios-install-hint')).toHaveCount(0);
  } finally {
    for (const p of [tab, ios, installed]) await p.context().close();
  }
});
