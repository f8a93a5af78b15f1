/**
 * What a newcomer trips over (issue 16), each proven in real Chromium
 * against the real server.
 */
import { callScreen, connectedPair, expect, expectFramesFlowing, expectState, joinCall, startCall, test } from './fixtures';

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
  await bob.getByRole('button', { name: 'Hang up' }).click();
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
