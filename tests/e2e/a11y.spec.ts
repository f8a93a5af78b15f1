/**
 * Accessibility, measured (issue 15): axe-core on every screen a person can
 * reach, with 0 violations, and the live region that tells a screen reader
 * what the call is doing.
 *
 * Screens are checked on a phone (the app is mobile-first); Home once more at
 * desktop size. No rule is disabled: a violation is fixed in the app.
 */
import AxeBuilder from '@axe-core/playwright';
import { devices, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { deriveKey, deriveRoomId, newSecret, type Secret } from '../../protocol/index';
import { FAKE_MEDIA_ARGS } from '../helpers/chromium';
import { joinAt, type TestPeer } from '../helpers/mqtt-peer';
import { newPeerId } from '../helpers/peers';
import { connectedPair, expect, expectFramesFlowing, expectState, joinCall, newContext, startCall, test, withChromium } from './fixtures';

/** WCAG 2.0-2.2 A and AA, plus axe's best practices (landmarks, one h1, heading order...). */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

const { defaultBrowserType: _webkitOrChromium, ...PHONE } = devices['Pixel 7'] as (typeof devices)['Pixel 7'] & { defaultBrowserType?: string };

/** Runs axe on what the page shows now; fails listing each violation and where. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary?.replace(/\s+/g, ' ')}`));
  expect(found, `axe violations on ${screen}`).toEqual([]);
}

/**
 * Text drawn over the other person's video: axe can't know what the picture
 * behind it will be ("background could not be determined", so no verdict).
 * Check the two extremes a camera can show, a white and a black frame, by
 * hiding the videos over a white or black call background.
 */
async function expectReadableOverAnyVideo(page: Page, screen: string): Promise<void> {
  for (const backdrop of ['#fff', '#000']) {
    const style = await page.addStyleTag({ content: `video { visibility: hidden !important; } .call { background: ${backdrop} !important; }` });
    try {
      const { violations } = await new AxeBuilder({ page }).withRules(['color-contrast']).analyze();
      const found = violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${n.any.map((a) => a.message).join('; ')}`));
      expect(found, `text contrast on ${screen} over a ${backdrop} video frame`).toEqual([]);
    } finally {
      await style.evaluate((el) => (el as Element).remove());
    }
  }
}

/** A phone in its own context (fake camera), closed after the test. */
const phoneTest = test.extend<{ phone: (options?: Parameters<Browser['newContext']>[0]) => Promise<Page> }>({
  phone: async ({ browser, server }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (options = {}) => {
      const ctx = await newContext(browser, server.url, { ...PHONE, ...options });
      contexts.push(ctx);
      return ctx.newPage();
    });
    for (const c of contexts) await c.close().catch(() => undefined);
  },
});


async function openHome(page: Page): Promise<void> {
  // RelayToggle renders once /config.json answered: check the settled page.
  const config = page.waitForResponse((r) => r.url().endsWith('/config.json'));
  await page.goto('/');
  await config;
  await expect(page.getByRole('button', { name: 'Start a call' })).toBeEnabled();
}

phoneTest('Home on a phone and on a desktop', async ({ phone, browser, server }) => {
  const page = await phone();
  await openHome(page);
  await expectAccessible(page, 'Home (phone)');
  const ctx = await newContext(browser, server.url, { viewport: { width: 1280, height: 800 } });
  try {
    const desk = await ctx.newPage();
    await openHome(desk);
    await expectAccessible(desk, 'Home (desktop)');
  } finally {
    await ctx.close();
  }
});

phoneTest('waiting with the link and QR code, then pre-join', async ({ phone }) => {
  const host = await phone();
  const link = await startCall(host);
  await expect(host.getByRole('img', { name: /QR code/ })).toBeVisible();
  await expectAccessible(host, 'waiting');
  await expectReadableOverAnyVideo(host, 'waiting');
  const guest = await phone();
  await guest.goto(link);
  await expect(guest.getByRole('button', { name: /^Join/ })).toBeEnabled();
  await expectAccessible(guest, 'pre-join');
});

phoneTest('in a call with the quality panel open, saving a contact, call ended, Home with the contact, ringing it and its incoming call', async ({ phone }) => {
  const alice = await phone();
  const bob = await phone();
  const link = await startCall(alice);
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await expectFramesFlowing(alice, 5);
  await alice.getByRole('button', { name: 'Call quality and verification' }).click();
  await expect(alice.getByTestId('verification-code')).not.toHaveAttribute('data-code', '');
  await expect(alice.getByTestId('rtt')).not.toHaveText('…');
  await expectAccessible(alice, 'in call, quality panel open');
  await expectReadableOverAnyVideo(alice, 'in call, quality panel open');
  await alice.getByRole('button', { name: 'Call quality and verification' }).click();

  // Both save the contact (Alice's sheet checked open), so Home lists it.
  for (const [page, name] of [[alice, 'Bob'], [bob, 'Alice']] as const) {
    await page.getByRole('button', { name: 'Save contact' }).click();
    await page.getByLabel('Their name').fill(name);
    if (page === alice) await expectAccessible(alice, 'save contact sheet');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByTestId('save-contact')).toHaveCount(0);
  }
  await expect(alice.getByText('Bob is saved')).toBeVisible();
  // Back mid-call asks first (a sheet over the call).
  await alice.goBack();
  await expect(alice.getByTestId('leave-call')).toBeVisible();
  await expectAccessible(alice, 'leave the call? sheet');
  await alice.getByRole('button', { name: 'Stay' }).click();
  await alice.getByRole('button', { name: 'Hang up' }).click();
  await expect(alice.getByTestId('call-ended')).toBeVisible();
  await expectAccessible(alice, 'call ended');
  await alice.getByRole('button', { name: 'Back to start' }).click();
  await expect(alice.getByRole('button', { name: 'Call Bob' })).toBeVisible();
  await expectAccessible(alice, 'Home with a saved contact');

  // Bob back on Home; Alice rings him: her "Calling Bob…" screen, his incoming call.
  await bob.getByRole('button', { name: 'Hang up' }).click();
  await bob.getByTestId('call-ended').getByRole('button', { name: 'Back to start' }).click();
  await expect(bob.getByRole('button', { name: 'Call Alice' })).toBeVisible();
  await alice.getByRole('button', { name: 'Call Bob' }).click();
  await expectState(alice, 'ringing');
  await expect(alice.getByText('Calling Bob…')).toBeVisible();
  await expectAccessible(alice, 'ringing (outgoing)');
  await expectReadableOverAnyVideo(alice, 'ringing (outgoing)');
  const incoming = bob.getByTestId('incoming-call');
  await expect(incoming.getByRole('button', { name: 'Answer' })).toBeVisible();
  await expectAccessible(bob, 'incoming call');
  await incoming.getByRole('button', { name: 'Decline' }).click();
  await expect(incoming).toBeHidden();
});

phoneTest('"This call is full"', async ({ phone, peer }) => {
  const { link } = await connectedPair(peer);
  const carol = await phone();
  await carol.goto(link); // full before the camera opens: no pre-join screen
  await expectState(carol, 'full');
  await expectAccessible(carol, 'call full');
});

phoneTest('the live region says connected, they muted, camera off, reconnecting, and connected again', async ({ phone, peer }) => {
  const alice = await phone();
  const bob = await peer();
  const link = await startCall(alice);
  const region = alice.getByTestId('call-announcer');
  await expect(region).toHaveAttribute('aria-live', 'polite');
  // A screen reader reads changes to a region that already exists: keep hold
  // of this element, and record every text it takes (a MutationObserver, so
  // no passing state is missed between two polls).
  await region.evaluate((el) => {
    const w = window as unknown as { __region: Element; __said: string[] };
    w.__region = el;
    w.__said = [];
    new MutationObserver(() => {
      const text = el.textContent?.trim() ?? '';
      if (text !== w.__said.at(-1)) w.__said.push(text);
    }).observe(el, { subtree: true, childList: true, characterData: true });
  });
  await expect(region).not.toContainText('Connected');

  await joinCall(bob, link);
  await expect(region).toHaveText('Connected');
  // In the accessibility tree, not only in the DOM (no aria-hidden, no display: none).
  await expect(region).toMatchAriaSnapshot('- paragraph: Connected');

  await bob.getByRole('button', { name: 'Mute microphone' }).click();
  await expect(region).toContainText('They muted their mic');
  await expectAccessible(alice, 'in call, they muted');
  await expectReadableOverAnyVideo(alice, 'in call, they muted');
  await bob.getByRole('button', { name: 'Camera off' }).click();
  await expect(region).toContainText('The other person turned their camera off');

  // Alice's network goes: the server connection drops first.
  await alice.context().setOffline(true);
  await expect(region).toContainText('Reconnecting');
  await expect(region).not.toContainText('Connected');
  await alice.context().setOffline(false);
  await expect(region).toContainText('Connected');
  await expectState(alice, 'connected');

  expect(await alice.evaluate(() => (window as unknown as { __region: Element }).__region === document.querySelector('[data-testid=call-announcer]')), 'the same region element throughout').toBe(true);
  const said = await alice.evaluate(() => (window as unknown as { __said: string[] }).__said);
  console.log('live region said:', said);
});

/** Opens `/call#secret` on a phone-sized page of `browser` and waits for the error screen of `reason`. */
async function errorScreen(page: Page, url: string, reason: string): Promise<void> {
  await page.goto(url);
  await expectState(page, 'error');
  await expect(page.getByRole('alert')).toHaveAttribute('data-error', reason);
  await expectAccessible(page, `error: ${reason}`);
}

test.describe('each error screen', () => {
  test('permission-denied, no-camera, insecure-context: browsers launched to produce them', async ({ server }) => {
    // No fake UI: headless Chromium answers the permission prompt with "deny".
    await withChromium(['--use-fake-device-for-media-stream'], async (b) => {
      await errorScreen(await (await b.newContext(PHONE)).newPage(), `${server.url}/call#${newSecret()}`, 'permission-denied');
    });
    // Fake UI grants permission, but without fake devices this machine has no camera.
    await withChromium(['--use-fake-ui-for-media-stream'], async (b) => {
      await errorScreen(await (await b.newContext(PHONE)).newPage(), `${server.url}/call#${newSecret()}`, 'no-camera');
    });
    // A non-localhost name on plain http: not a secure context.
    await withChromium([...FAKE_MEDIA_ARGS, '--host-resolver-rules=MAP tandem.test 127.0.0.1'], async (b) => {
      await errorScreen(await (await b.newContext(PHONE)).newPage(), `http://tandem.test:${server.port}/call#${newSecret()}`, 'insecure-context');
    });
  });

  phoneTest('invalid-link, unsupported-browser, camera-busy, media-failed, signaling-unreachable', async ({ phone }) => {
    await errorScreen(await phone(), '/call#not-a-real-secret', 'invalid-link');

    // As in many in-app browsers: no navigator.mediaDevices at all.
    const webview = await phone();
    await webview.addInitScript(() => Object.defineProperty(Navigator.prototype, 'mediaDevices', { get: () => undefined, configurable: true }));
    await errorScreen(webview, `/call#${newSecret()}`, 'unsupported-browser');

    // A fake camera is never busy and never breaks: getUserMedia fails the way
    // a camera held by another app (NotReadableError) or an unknown failure does.
    for (const [name, reason] of [['NotReadableError', 'camera-busy'], ['UnknownError', 'media-failed']] as const) {
      const page = await phone();
      await page.addInitScript((n) => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('injected by the test', n));
      }, name);
      await errorScreen(page, `/call#${newSecret()}`, reason);
    }

    // The server answers /healthz but not /config.json: the broker's address can't be learnt.
    const cut = await phone();
    await cut.route('**/config.json', (r) => r.fulfill({ status: 503 }));
    await errorScreen(cut, `/call#${newSecret()}`, 'signaling-unreachable');
  });

  phoneTest('peer-outdated and app-outdated: a message from another protocol version', async ({ phone, server }) => {
    const spies: TestPeer[] = [];
    try {
      for (const [v, reason] of [[1, 'peer-outdated'], [99, 'app-outdated']] as const) {
        const page = await phone();
        const link = await startCall(page);
        const secret = link.split('#')[1] as Secret;
        const room = { room: await deriveRoomId(secret), key: await deriveKey(secret) };
        const other = await joinAt(`${server.url.replace(/^http/, 'ws')}/mqtt`, room, newPeerId());
        spies.push(other);
        await other.publish({ type: 'presence', offer: null, v } as unknown as Parameters<TestPeer['publish']>[0]);
        await expectState(page, 'error');
        await expect(page.getByRole('alert')).toHaveAttribute('data-error', reason);
        await expectAccessible(page, `error: ${reason}`);
      }
    } finally {
      for (const s of spies) await s.end();
    }
  });

  phoneTest('connect-timeout: the other side is found but no path connects', async ({ phone, peer }) => {
    // Relay-only ICE on a server without TURN: no candidate pair can form, so
    // after the connect timeout (20 s, one rebuild halfway) the call gives up.
    const alice = await phone();
    await alice.addInitScript(() => {
      const Orig = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Orig {
        constructor(config?: RTCConfiguration) {
          super({ ...config, iceTransportPolicy: 'relay' });
        }
      };
    });
    const bob = await peer();
    const link = await startCall(alice);
    await joinCall(bob, link);
    await expectState(alice, 'error', 40_000);
    await expect(alice.getByRole('alert')).toHaveAttribute('data-error', 'connect-timeout');
    await expectAccessible(alice, 'error: connect-timeout');
  });
  // connection-lost is not produced here: it needs a connected call whose
  // media path stays dead for 2 minutes (giveUpAfterMs). Its screen is the
  // same ErrorNotice, with the same buttons as connect-timeout.
});
