import { devices } from '@playwright/test';
import { newSecret } from '../../protocol/index';
import { FAKE_MEDIA_ARGS } from '../helpers/chromium';
import { expect, expectState, test, withChromium } from './fixtures';

/** Each failure gets its own message that says what to do, never a blank page. */
test('camera permission denied says how to allow it', async ({ server }) => {
  // No fake UI: headless Chromium answers the permission prompt with "deny".
  await withChromium(['--use-fake-device-for-media-stream'], async (browser) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/call#${newSecret()}`);
    await expectState(page, 'error');
    await expect(page.getByRole('alert')).toContainText('isn’t allowed to use your camera');
    await expect(page.getByRole('alert')).toContainText('Allow camera and microphone');
    // How to re-allow it in this browser, and the two things that can help: try again, or take the link elsewhere.
    await expect(page.getByTestId('permission-steps')).toContainText('In Chrome: tap the icon left of the address');
    await expect(page.getByRole('button', { name: 'Try again' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Copy link' })).toBeVisible();
  });
});

test('no camera says so', async ({ server }) => {
  // Fake UI grants permission, but without fake devices this machine has no camera.
  await withChromium(['--use-fake-ui-for-media-stream'], async (browser) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/call#${newSecret()}`);
    await expectState(page, 'error');
    await expect(page.getByRole('alert')).toContainText('No camera or microphone was found');
  });
});

test('an insecure (http, non-localhost) page explains that https is needed', async ({ server }) => {
  // Resolve a non-localhost name to loopback: same server, but not a secure context.
  await withChromium([...FAKE_MEDIA_ARGS, '--host-resolver-rules=MAP tandem.test 127.0.0.1'], async (browser) => {
    const page = await browser.newPage();
    await page.goto(`http://tandem.test:${server.port}/call#${newSecret()}`);
    expect(await page.evaluate(() => isSecureContext)).toBe(false);
    await expectState(page, 'error');
    await expect(page.getByRole('alert')).toContainText('https://');
  });
});

test('a damaged link says to ask for it again', async ({ peer }) => {
  const page = await peer();
  await page.goto('/call#not-a-real-secret');
  await expectState(page, 'error');
  await expect(page.getByRole('alert')).toContainText('This call link is incomplete');
  // Reloading can't repair a link: no Try again, but a new call of one's own.
  await expect(page.getByRole('button', { name: 'Try again' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Start a new call' }).click();
  await expectState(page, 'waiting');
});

test('a browser that can\'t call offers the link to take elsewhere, and Copy link puts it on the clipboard', async ({ browser, server }) => {
  const ctx = await browser.newContext({ baseURL: server.url, permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    // As in many in-app browsers (webviews): no navigator.mediaDevices at all.
    await ctx.addInitScript(() => Object.defineProperty(Navigator.prototype, 'mediaDevices', { get: () => undefined, configurable: true }));
    const page = await ctx.newPage();
    const secret = newSecret();
    await page.goto(`/call#${secret}`);
    await expectState(page, 'error');
    await expect(page.getByRole('alert')).toContainText('Open in browser');
    await expect(page.getByRole('button', { name: 'Try again' })).toHaveCount(0);
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/call#${secret}`);
    // Not Android: no intent:// link to offer.
    await expect(page.getByTestId('open-in-browser')).toHaveCount(0);
  } finally {
    await ctx.close();
  }
});

test('an in-app browser that has a camera API but refuses without asking: the same way out, and Open in browser on Android', async ({ browser, server }) => {
  const ctx = await browser.newContext({ ...devices['Pixel 7'], baseURL: server.url, permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    // As Android's WebView does when the host app never forwards the permission request:
    // NotAllowedError at once, while the site's permission still reads "prompt".
    await ctx.addInitScript(() => {
      MediaDevices.prototype.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      const query = Permissions.prototype.query;
      Permissions.prototype.query = function (d: PermissionDescriptor) {
        return d.name === ('camera' as PermissionName) ? Promise.resolve({ state: 'prompt' } as PermissionStatus) : query.call(this, d);
      };
    });
    const page = await ctx.newPage();
    const secret = newSecret();
    await page.goto(`/call#${secret}`);
    await expectState(page, 'error');
    const alert = page.getByRole('alert');
    await expect(alert).toHaveAttribute('data-error', 'unsupported-browser');
    await expect(alert).toContainText('Open in browser');
    await expect(page.getByTestId('permission-steps')).toHaveCount(0); // not "allow the camera in settings": there is no such setting here
    // Android hands the very link (secret included) to the default browser.
    await expect(page.getByTestId('open-in-browser')).toHaveAttribute('href', `intent://${new URL(server.url).host}/call#${secret}#Intent;scheme=http;end`);
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/call#${secret}`);
  } finally {
    await ctx.close();
  }
});
