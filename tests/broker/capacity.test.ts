/**
 * A room holds two people. The third is told the call is full (SUBACK 0x80)
 * and learns nothing about the room; the same person coming back on a new
 * connection takes their own place instead of a third one.
 */
import { afterEach, expect, it } from 'vitest';
import { clientIdFor, newPeerToken, peerTopic, roomFilters } from '../../protocol/index';
import {
  admitted,
  barrier,
  cleanup,
  connectRaw,
  joinRoom,
  metricValue,
  newPeerId,
  newRoomId,
  published,
  recordMessages,
  startTestServer,
  subscribeGranted,
  withoutBarriers,
} from '../helpers/broker';
import { tokenOf } from '../helpers/peers';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

it('admits two peers and refuses a third, which receives no retained presence', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b, c] = [newPeerId(), newPeerId(), newPeerId()];
  const alice = await admitted(server, room, a);
  const stored = published(server, peerTopic(room, a, 'presence'), { retain: true });
  await alice.publishAsync(peerTopic(room, a, 'presence'), 'alice is here', { qos: 1, retain: true });
  await stored;
  const bob = await admitted(server, room, b);

  const { client: carol, granted } = await joinRoom(server, room, c);
  expect(granted).toEqual([128, 128]);
  const carolSaw = recordMessages(carol);
  // A second SUBSCRIBE round trip: a retained message for the first one would be on the wire before its SUBACK.
  expect(await subscribeGranted(carol, roomFilters(room))).toEqual([128, 128]);
  expect(carolSaw).toEqual([]);
  expect(await metricValue(server, 'tandem_refused_total', { reason: 'room-full' })).toBeGreaterThanOrEqual(2);

  // Refused means refused: Carol may not speak in the room either.
  carol.publish(peerTopic(room, c, 'signal'), 'let me in', { qos: 0 });
  await waitFor(carol, 'close');

  // The two members are unaffected.
  const bobSaw = recordMessages(bob);
  await alice.publishAsync(peerTopic(room, a, 'signal'), 'still here', { qos: 1 });
  await barrier(bob, room, b);
  expect(withoutBarriers(bobSaw).map((m) => m.payload)).toEqual(['still here']);
});

it('frees the place when a member leaves', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const alice = await admitted(server, room, newPeerId());
  await admitted(server, room, newPeerId());
  const gone = waitFor(server.broker, 'clientDisconnect');
  await alice.endAsync();
  await gone;
  const { granted } = await joinRoom(server, room, newPeerId());
  expect(granted).toEqual([1, 1]);
});

it('lets the same peer id take over its own place while the old connection is still open', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b] = [newPeerId(), newPeerId()];
  const oldAlice = await admitted(server, room, a);
  const bob = await admitted(server, room, b);

  // Same clientId: the broker closes the old connection [MQTT-3.1.4-2] and the new one takes its place.
  const oldClosed = waitFor(oldAlice, 'close');
  const { client: newAlice, granted } = await joinRoom(server, room, a);
  expect(granted).toEqual([1, 1]);
  await oldClosed;

  // The room works with the new connection…
  const got = waitFor<[string, Buffer]>(newAlice, 'message', { filter: (t) => t === peerTopic(room, b, 'signal') });
  await bob.publishAsync(peerTopic(room, b, 'signal'), 'welcome back', { qos: 1 });
  expect((await got)[1].toString()).toBe('welcome back');

  // …and still counts two people: a third is refused.
  const { granted: third } = await joinRoom(server, room, newPeerId());
  expect(third).toEqual([128, 128]);
});

it('refuses a former member who knows a peer id but not its token: no takeover, the call goes on', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await admitted(server, room, a);
  const bob = await admitted(server, room, b);
  let aliceClosed = false;
  alice.once('close', () => (aliceClosed = true));

  // Every way of claiming Alice's clientId without her token gets CONNACK 4 (bad user name or password).
  const attempts: Array<[string, { username?: string; password?: Buffer }]> = [
    ['no credentials', {}],
    ['no password', { username: room }],
    ['another peer\u2019s valid token', { username: room, password: Buffer.from(tokenOf(b)!) }],
    ['a fresh token', { username: room, password: Buffer.from(newPeerToken()) }],
    ['her token with the wrong username', { username: newRoomId(), password: Buffer.from(tokenOf(a)!) }],
    ['garbage', { username: room, password: Buffer.from('\u0000\u00ff'.repeat(40)) }],
  ];
  for (const [what, creds] of attempts) {
    const err = await connectRaw(server, { clientId: clientIdFor(room, a), ...creds }).then(
      () => null,
      (e: { code?: number }) => e,
    );
    expect(err?.code, what).toBe(4);
  }
  expect(await metricValue(server, 'tandem_refused_total', { reason: 'credentials' })).toBe(attempts.length);

  // Alice kept her connection and her place.
  const got = waitFor<[string, Buffer]>(alice, 'message', { filter: (t) => t === peerTopic(room, b, 'signal') });
  await bob.publishAsync(peerTopic(room, b, 'signal'), 'still you?', { qos: 1 });
  expect((await got)[1].toString()).toBe('still you?');
  expect(aliceClosed).toBe(false);
});
