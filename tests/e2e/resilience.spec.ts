import { deriveKey, deriveRoomId, type Secret } from '../../protocol/index';
import { joinAt } from '../helpers/mqtt-peer';
import { newPeerId } from '../helpers/peers';
import { freePort, startServer, type ServerProcess } from '../helpers/server';
import {
  callScreen, connectedPair, expect, expectFramesFlowing, expectState, joinCall, negotiations, newContext, recordStates, startCall, stats, test,
} from './fixtures';

test('broker killed and restarted mid-call: media never stops, both reconnect, signaling works after', async ({ browser }) => {
  const port = await freePort();
  let server: ServerProcess = await startServer({}, port);
  const ca = await newContext(browser, server.url);
  const cb = await newContext(browser, server.url);
  try {
    const alice = await ca.newPage();
    const bob = await cb.newPage();
    const link = await startCall(alice);
    await joinCall(bob, link);
    await expectState(alice, 'connected');
    await expectState(bob, 'connected');
    await expectFramesFlowing(bob, 5);
    // Every data-state Alice shows from now on: the outage must not show as one.
    const states = await recordStates(alice);

    await server.stop('SIGKILL');
    const framesAtKill = (await stats(bob)).framesDecoded;
    await expect(callScreen(alice)).toHaveAttribute('data-signaling', 'reconnecting');
    server = await startServer({}, port);
    const back = Date.now();
    // The call itself never noticed: still connected, frames still flowing.
    await expect(callScreen(alice)).toHaveAttribute('data-state', 'connected');
    expect((await stats(bob)).framesDecoded).toBeGreaterThan(framesAtKill);
    for (const page of [alice, bob]) {
      await expect(callScreen(page)).toHaveAttribute('data-signaling', 'connected', { timeout: 10_000 });
    }
    const reconnectMs = Date.now() - back;
    console.log(`both peers back on the broker ${reconnectMs} ms after it was healthy`);
    expect(reconnectMs).toBeLessThan(3_000);
    await expectFramesFlowing(bob);
    expect(await states()).toEqual([]);
    await expect(alice.getByText('Reconnecting to server…')).toHaveCount(0);

    // Signaling is alive: an ICE restart renegotiates through the new broker.
    const before = await negotiations(alice) + (await negotiations(bob));
    await alice.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      [...pcs].reverse().find((p) => p.connectionState !== 'closed')!.restartIce();
    });
    await expect.poll(async () => (await negotiations(alice)) + (await negotiations(bob))).toBeGreaterThanOrEqual(before + 2);
    await expectState(alice, 'connected');
    await expectFramesFlowing(alice);
    await expectFramesFlowing(bob);
  } finally {
    await ca.close();
    await cb.close();
    await server.stop();
  }
});

test('broker restarted while someone waits alone: their offer is published again and the next person connects', async ({ browser }) => {
  const port = await freePort();
  let server: ServerProcess = await startServer({}, port);
  const ca = await newContext(browser, server.url);
  const cb = await newContext(browser, server.url);
  try {
    const alice = await ca.newPage();
    const link = await startCall(alice);
    // A restarted broker has no retained messages: Alice's presence and offer are gone with it.
    await server.stop('SIGKILL');
    await expect(callScreen(alice)).toHaveAttribute('data-signaling', 'reconnecting');
    server = await startServer({}, port);
    await expect(callScreen(alice)).toHaveAttribute('data-signaling', 'connected', { timeout: 10_000 });
    await expectState(alice, 'waiting');

    // The new broker holds her offer again: a member with the link reads it
    // retained (had it been lost, the next joiner would wait with an offer of
    // his own, and the call would still connect, so the call alone proves nothing).
    const secret = link.split('#')[1] as Secret;
    const room = { room: await deriveRoomId(secret), key: await deriveKey(secret) };
    const spy = await joinAt(`${server.url.replace(/^http/, 'ws')}/mqtt`, room, newPeerId());
    const presence = await spy.next({ kind: 'presence', empty: false });
    expect(presence.retain).toBe(true);
    expect(presence.message).toMatchObject({ type: 'presence', offer: { type: 'offer' } });
    await spy.end(); // its socket closes, and its place with it, long before Bob's page has loaded

    const bob = await cb.newPage();
    await joinCall(bob, link);
    await expectState(bob, 'connected');
    await expectState(alice, 'connected');
    await expectFramesFlowing(alice);
    await expectFramesFlowing(bob);
  } finally {
    await ca.close();
    await cb.close();
    await server.stop();
  }
});

test('reloading one side mid-call: both back to connected and decoding within 5 s, no third person', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  const t0 = Date.now();
  await bob.reload();
  // No pre-join tap: the reload lands back in the call.
  await expectState(bob, 'connected', 5_000);
  await expectState(alice, 'connected', 5_000);
  await expectFramesFlowing(bob, 5, 5_000);
  await expectFramesFlowing(alice, 5, 5_000);
  console.log(`reload → frames both ways in ${Date.now() - t0} ms`);
  await expect(callScreen(bob)).not.toHaveAttribute('data-state', 'full');

  // Minutes into a steady call (no state change since joining): the "in this
  // call" mark is refreshed when the page goes away, so a reload still skips
  // the pre-join screen. Here its age is faked to two minutes.
  await bob.evaluate(() => {
    for (const key of Object.keys(sessionStorage)) if (key.startsWith('tandem.joined.')) sessionStorage.setItem(key, String(Date.now() - 120_000));
  });
  await bob.reload();
  await expectState(bob, 'connected', 5_000);
  await expect(bob.getByRole('button', { name: /^Join/ })).toHaveCount(0);
  await expectFramesFlowing(bob, 5, 5_000);
});

test('the other person’s tab dies (no hang-up): this side sees they left, and someone new can join', async ({ peer }) => {
  const { alice, bob, link } = await connectedPair(peer);
  const t0 = Date.now();
  await bob.context().close(); // abrupt: no bye, no cleared presence
  await expectState(alice, 'waiting', 20_000);
  await expect(alice.getByText('The other person left')).toBeVisible();
  console.log(`left state after ${Date.now() - t0} ms`);
  const carol = await peer();
  await joinCall(carol, link);
  await expectState(carol, 'connected');
  await expectFramesFlowing(alice);
});
