import { newSecret } from '../../protocol/index';
import { callScreen, expect, hangUp, expectAudioFlowing, expectFramesFlowing, expectState, joinCall, startCall, test } from './fixtures';

test('two people see and hear each other through our broker', async ({ peer }) => {
  const alice = await peer();
  const bob = await peer();
  const cspViolations: string[] = [];
  for (const page of [alice, bob]) page.on('console', (m) => m.text().includes('Content Security Policy') && cspViolations.push(m.text()));
  const link = await startCall(alice);
  expect(link).toMatch(/\/call#[A-Za-z0-9_-]{22}$/);
  await expect(alice.getByRole('button', { name: /Copy/ })).toBeVisible();
  await expect(alice.getByRole('img', { name: /QR code/ })).toBeVisible();

  await bob.goto(link);
  await expect(bob.getByTestId('local-video')).toBeVisible();
  // The joiner goes straight to connecting: it never renders the waiting panel
  // (and its QR code) on the call-setup path. Mutation records catch even a
  // panel that was mounted and removed again within one task.
  await bob.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __seen: string[] }).__seen = seen;
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && r.oldValue) seen.push(r.oldValue);
        for (const n of r.addedNodes) if (n instanceof Element && (n.matches('.waiting-panel') || n.querySelector('.waiting-panel'))) seen.push('waiting-panel');
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-state'] });
  });
  await bob.getByRole('button', { name: /^Join/ }).click();

  await expectState(alice, 'connected');
  await expectState(bob, 'connected');
  await expectFramesFlowing(alice);
  await expectFramesFlowing(bob);
  await expectAudioFlowing(alice);
  await expectAudioFlowing(bob);
  const bobSaw = await bob.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
  expect(bobSaw).not.toContain('waiting');
  expect(bobSaw).not.toContain('waiting-panel');
  for (const page of [alice, bob]) {
    const remote = page.getByTestId('remote-video');
    await expect(remote).toHaveJSProperty('muted', false);
    await expect(page.getByTestId('local-video')).toHaveJSProperty('muted', true);
    expect(await remote.evaluate((v: HTMLVideoElement) => v.hasAttribute('playsinline') && getComputedStyle(v).objectFit)).toBe('cover');
  }
  // The strict CSP blocks nothing the app needs (mqtt.js's timer worker, QR, video).
  expect(cspViolations).toEqual([]);
});

test('hang-up shows "Call ended" with the duration, the other side waits again, Rejoin returns, and a new person can join', async ({ peer }) => {
  const alice = await peer();
  const bob = await peer();
  const link = await startCall(alice);
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await expectFramesFlowing(alice);

  await bob.getByRole('button', { name: 'Hang up' }).click();
  await expect(bob.getByTestId('call-ended')).toContainText('Call ended');
  await expect(bob.getByTestId('call-duration')).toHaveText(/^\d+:\d\d$/);
  await expectState(alice, 'waiting');
  await expect(alice.getByText('The other person left')).toBeVisible();
  // The camera light is off on the ended screen.
  expect(await bob.evaluate(() => document.querySelectorAll('video').length)).toBe(0);
  // Rejoin: back into the same call without another tap.
  await bob.getByRole('button', { name: 'Rejoin' }).click();
  await expectState(bob, 'connected');
  await expectState(alice, 'connected');
  await hangUp(bob);
  await expectState(alice, 'waiting');

  const carol = await peer();
  await joinCall(carol, link);
  await expectState(carol, 'connected');
  await expectState(alice, 'connected');
  await expectFramesFlowing(carol);
  await expectFramesFlowing(alice);
});

test('a third person who opens the link sees "This call is full", cannot disturb the call, and can start a new one', async ({ peer }) => {
  const alice = await peer();
  const bob = await peer();
  const link = await startCall(alice);
  await joinCall(bob, link);
  await expectState(alice, 'connected');

  const mallory = await peer();
  // The server's room registry says so before the camera opens (no pre-join screen, no Join to tap).
  await mallory.goto(link);
  await expectState(mallory, 'full');
  await expect(mallory.getByText('This call is full')).toBeVisible();
  await expect(mallory.getByRole('button', { name: /^Join/ })).toHaveCount(0);
  // The call goes on untouched.
  await expectFramesFlowing(alice);
  await expectFramesFlowing(bob);
  await expect(callScreen(alice)).toHaveAttribute('data-state', 'connected');
  // One tap to a fresh link (what a host whose room was squatted needs).
  await mallory.getByRole('button', { name: 'Start a new call' }).click();
  await expectState(mallory, 'waiting');
  const fresh = await mallory.getByTestId('call-link').textContent();
  expect(fresh).not.toBe(link);
});

test('opening a link takes no place: someone who only opened it does not lock out the guest', async ({ peer }) => {
  const alice = await peer();
  const link = await startCall(alice);
  // Someone in the group chat opens the link and leaves it on the pre-join screen.
  // Their page can't ask the server who is there (GET /api/room fails), so only Join can tell them the call filled up.
  const opener = await peer();
  await opener.route('**/api/room?*', (route) => route.abort());
  await opener.goto(link);
  await expect(opener.getByRole('button', { name: /^Join/ })).toBeEnabled();
  const bob = await peer();
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await expectState(bob, 'connected');
  await expectFramesFlowing(bob);
  // The opener is still on the pre-join screen and learned nothing; Join now finds the call full.
  await opener.getByRole('button', { name: /^Join/ }).click();
  await expectState(opener, 'full');
});

test('the server logs of a whole call hold no call secret, SDP or candidate', async ({ peer, server }) => {
  const alice = await peer();
  const bob = await peer();
  const link = await startCall(alice);
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await hangUp(bob);
  await expectState(alice, 'waiting');
  const secret = link.split('#')[1]!;
  const log = server.output();
  expect(log.length).toBeGreaterThan(0); // debug level: the server did log this call
  for (const forbidden of [secret, 'a=fingerprint', 'v=0', 'candidate:', 'a=ice-pwd']) expect(log).not.toContain(forbidden);
});

test('both people open the link and tap Join at the same moment: perfect negotiation still makes one call', async ({ peer }) => {
  const alice = await peer();
  const bob = await peer();
  const link = `/call#${newSecret()}`;
  await Promise.all([alice.goto(link), bob.goto(link)]);
  await Promise.all([alice, bob].map((p) => expect(p.getByRole('button', { name: /^Join/ })).toBeEnabled()));
  // Neither has seen the other's offer yet: both may wait with offers of their own, and they collide.
  await Promise.all([alice, bob].map((p) => p.getByRole('button', { name: /^Join/ }).click()));
  // As fast as any call: no waiting for the connect timeout's rebuild to untangle them.
  await expectState(alice, 'connected', 5_000);
  await expectState(bob, 'connected', 5_000);
  await expectFramesFlowing(alice);
  await expectFramesFlowing(bob);
});
