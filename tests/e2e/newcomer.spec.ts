/**
 * What a newcomer trips over (issue 16), each proven in real Chromium
 * against the real server.
 */
import { newSecret } from '../../protocol/index';
import type { Page } from '@playwright/test';
import { callScreen, connectedPair, expect, hangUp, expectFramesFlowing, expectState, joinCall, newContext, startCall, test } from './fixtures';

test('no TURN on the server: Relay only is not offered, and an "on" left from elsewhere never blocks a call', async ({ peer }) => {
  const alice = await peer();
  const bob = await peer();
  const configSeen = alice.waitForResponse((r) => r.url().endsWith('/config.json'));
  await alice.goto('/');
  await configSeen;
  await expect(alice.getByRole('button', { name: 'Start a call' })).toBeVisible();
  await expect(alice.getByRole('button', { name: /^Relay only/ })).toHaveCount(0);
  // The setting was saved on these phones (another server had a relay).
  await bob.goto('/');
  for (const p of [alice, bob]) await p.evaluate(() => localStorage.setItem('tandem.relayOnly', '1'));
  await alice.reload();
  await expect(alice.getByTestId('relay-unavailable')).toContainText('this server has no relay server');
  const link = await startCall(alice);
  await bob.goto(link);
  await expect(bob.getByTestId('relay-unavailable')).toBeVisible();
  await bob.getByRole('button', { name: /^Join/ }).click();
  // Connects directly, well inside the 20 s after which a relay-only call without a relay gave up.
  await expectState(alice, 'connected', 10_000);
  await expectState(bob, 'connected', 10_000);
  await expectFramesFlowing(bob, 5);
  // Hang up; the notice turns the setting off for good.
  await hangUp(bob);
  await bob.getByRole('button', { name: 'Turn Relay only off' }).click();
  await expect(bob.getByTestId('relay-unavailable')).toHaveCount(0);
  expect(await bob.evaluate(() => localStorage.getItem('tandem.relayOnly'))).toBe('0');
  await joinCall(bob, link);
  await expectState(bob, 'connected');
});

test('Back mid-call asks first; Stay keeps the call, Leave ends it for the other side within 2 s', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  await bob.goBack();
  const ask = bob.getByTestId('leave-call');
  await expect(ask).toContainText('Leave the call?');
  await ask.getByRole('button', { name: 'Stay' }).click();
  await expect(ask).toHaveCount(0);
  await expectState(bob, 'connected');
  await expectFramesFlowing(bob, 5);
  await bob.goBack();
  await bob.getByTestId('leave-call').getByRole('button', { name: 'Leave' }).click();
  await expect(bob.getByRole('button', { name: 'Start a call' })).toBeVisible();
  await expect(callScreen(alice)).not.toHaveAttribute('data-state', 'connected', { timeout: 2_000 });
  await expect(alice.getByText('The other person left')).toBeVisible();
});

test('closing the tab mid-call: the other side sees it within 2 s, not after a frozen picture', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  await bob.close();
  await expect(callScreen(alice)).not.toHaveAttribute('data-state', 'connected', { timeout: 2_000 });
  await expect(alice.getByText('The other person left')).toBeVisible();
});

test('a waiting caller who switched apps is told the other person joined: chime, title, notification', async ({ peer, server }) => {
  const alice = await peer();
  const bob = await peer();
  await alice.context().grantPermissions(['notifications'], { origin: server.url });
  const link = await startCall(alice);
  await alice.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  // Alice went to her messaging app to paste the link: her page is hidden.
  const setVisibility = (state: 'hidden' | 'visible') =>
    alice.evaluate((s) => {
      Object.defineProperty(document, 'visibilityState', { value: s, configurable: true });
      Object.defineProperty(document, 'hidden', { value: s === 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, state);
  await setVisibility('hidden');
  await expect(alice).toHaveTitle('Tandem');
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await expect(alice).toHaveTitle('● They joined · Tandem');
  await expect(alice.getByTestId('join-sound')).toHaveAttribute('data-played', '1');
  await expect
    .poll(() => alice.evaluate(async () => (await (await navigator.serviceWorker.getRegistration())!.getNotifications({ tag: 'tandem-joined' })).map((n) => n.title)))
    .toEqual(['The other person joined']);
  await setVisibility('visible');
  await expect(alice).toHaveTitle('Tandem');
  // The joiner never waited: no cue on Bob's side.
  await expect(bob.getByTestId('join-sound')).toHaveCount(0);
});

const shortScreens = { 'phone landscape 640×360': { width: 640, height: 360 }, 'iPhone landscape 844×390': { width: 844, height: 390 } };

for (const [name, viewport] of Object.entries(shortScreens)) {
  test(`${name}: Home fits or scrolls, and on the waiting screen no button covers the QR code or another button`, async ({ browser, server }) => {
    const ctx = await newContext(browser, server.url, { viewport, isMobile: true, hasTouch: true });
    try {
      const page = await ctx.newPage();
      await page.goto('/');
      // Every part of Home can be seen, scrolled to where needed (nothing is above the top or unreachable below).
      for (const part of [page.locator('.logo'), page.getByRole('heading', { name: 'Tandem' }), page.getByRole('button', { name: 'Start a call' }), page.locator('.home > :last-child')]) {
        await part.scrollIntoViewIfNeeded();
        const box = (await part.boundingBox())!;
        expect(box.y, `${await part.evaluate((e) => e.outerHTML.slice(0, 40))} top`).toBeGreaterThanOrEqual(0);
        expect(box.y + box.height).toBeLessThanOrEqual(viewport.height + 0.5);
      }
      const link = await startCall(page);
      // The pre-join screen of the same link: the Join button is on screen, under the preview.
      const guest = await ctx.newPage();
      await guest.goto(link);
      const join = guest.getByRole('button', { name: /^Join/ });
      await expect(join).toBeEnabled();
      const joinBox = (await join.boundingBox())!;
      expect(joinBox.y >= 0 && joinBox.y + joinBox.height <= viewport.height, 'Join inside the screen').toBe(true);
      await guest.close();
      const qr = page.getByRole('img', { name: /QR code/ });
      await expect(qr).toBeVisible();
      const boxes = await page.evaluate(() =>
        [...document.querySelectorAll('button, .qr')]
          .filter((e) => (e as HTMLElement).offsetParent !== null)
          .map((e) => {
            const r = e.getBoundingClientRect();
            return { name: e.getAttribute('aria-label') ?? e.textContent ?? '', x: r.x, y: r.y, width: r.width, height: r.height };
          }),
      );
      for (const b of boxes) expect(b.y >= 0 && b.y + b.height <= viewport.height + 0.5 && b.x >= 0 && b.x + b.width <= viewport.width + 0.5, `${b.name} inside the screen`).toBe(true);
      const overlaps = (a: (typeof boxes)[0], b: (typeof boxes)[0]) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect(overlaps(boxes[i]!, boxes[j]!), `${boxes[i]!.name} overlaps ${boxes[j]!.name}`).toBe(false);
    } finally {
      await ctx.close();
    }
  });
}

test('pasting another call link into the address bar opens that call, after leaving the old one', async ({ peer }) => {
  const alice = await peer();
  const linkA = await startCall(alice);
  const secretB = newSecret();
  await alice.evaluate((s) => {
    location.hash = s;
  }, secretB);
  // B's own pre-join screen (a link opened by hand is never joined without a tap).
  await expect(alice.getByRole('button', { name: /^Join/ })).toBeVisible();
  await alice.getByRole('button', { name: /^Join/ }).click();
  await expectState(alice, 'waiting');
  await expect(alice.getByTestId('call-link')).toHaveText(new RegExp(`#${secretB}$`));
  // Call A was left: someone who opens A now waits alone instead of meeting Alice there.
  const bob = await peer();
  await joinCall(bob, linkA);
  await expectState(bob, 'waiting');
});

/** Records every stream getUserMedia hands out, so a test can read the tracks' readyState (the camera light). */
async function recordStreams(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const w = window as unknown as { __streams: MediaStream[] };
    w.__streams = [];
    const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (c) => {
      const s = await open(c);
      w.__streams.push(s);
      return s;
    };
  });
  return () => page.evaluate(() => (window as unknown as { __streams: MediaStream[] }).__streams.flatMap((s) => s.getTracks()).map((t) => `${t.kind}:${t.readyState}`));
}

test('a third person learns "This call is full" before their camera opens', async ({ peer }) => {
  const { link } = await connectedPair(peer);
  const carol = await peer();
  const tracks = await recordStreams(carol);
  await carol.goto(link);
  await expectState(carol, 'full');
  await expect(carol.getByText('This call is full')).toBeVisible();
  expect(await tracks()).toEqual([]); // the camera never started
});

test('pre-join says whether the other person is waiting, and the call filling up meanwhile turns the camera light out', async ({ peer }) => {
  const alice = await peer();
  const carol = await peer();
  const tracks = await recordStreams(carol);
  // Opened before anyone is there: the screen says so.
  const secret = newSecret();
  await carol.goto(`/call#${secret}`);
  await expect(carol.getByTestId('room-presence')).toHaveText(/isn’t here yet/);
  // Alice opens the same link and taps Join: within the 10 s re-check, Carol's screen says she is waiting.
  await joinCall(alice, `/call#${secret}`);
  await expectState(alice, 'waiting');
  await expect(carol.getByTestId('room-presence')).toHaveText(/The other person is waiting/, { timeout: 15_000 });
  expect((await tracks()).sort()).toEqual(['audio:live', 'video:live']);
  // Bob gets there first; Carol's next check finds the call full, and her camera stops.
  const bob = await peer();
  await joinCall(bob, `/call#${secret}`);
  await expectState(bob, 'connected');
  await expectState(carol, 'full', 15_000);
  await expect.poll(async () => (await tracks()).sort()).toEqual(['audio:ended', 'video:ended']);
});
