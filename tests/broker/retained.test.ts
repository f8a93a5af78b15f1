/**
 * Retained presence is how a late joiner finds the waiting peer (and its
 * offer). It must appear for a late subscriber, and disappear when its peer is
 * gone, however it left: crashed (the Will) or hung up without clearing (the
 * broker). A room nobody is in keeps nothing.
 */
import { afterEach, expect, it } from 'vitest';
import type { IClientOptions } from 'mqtt';
import { clientIdFor, peerTopic, roomPrefix, type PeerId, type RoomId } from '../../protocol/index';
import {
  admitted,
  barrier,
  cleanup,
  newPeerId,
  newRoomId,
  presenceCleared,
  published,
  recordMessages,
  retainedTopics,
  startTestServer,
  withoutBarriers,
  type Received,
} from '../helpers/broker';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

/** The Will the app sets: clear my presence if I vanish. */
const appWill = (room: RoomId, peer: PeerId): IClientOptions['will'] => ({
  topic: peerTopic(room, peer, 'presence'),
  payload: Buffer.alloc(0),
  qos: 1,
  retain: true,
});

function nextMessage(client: Parameters<typeof recordMessages>[0], match: (m: Received) => boolean): Promise<Received> {
  return waitFor<[string, Buffer, { retain: boolean; qos: number }]>(client, 'message', {
    filter: (topic, payload, packet) => match({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }),
  }).then(([topic, payload, packet]) => ({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }));
}

it('delivers a retained presence to a peer who subscribes later', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await admitted(server, room, a);
  const stored = published(server, peerTopic(room, a, 'presence'), { retain: true });
  await alice.publishAsync(peerTopic(room, a, 'presence'), 'offer from alice', { qos: 1, retain: true });
  await stored;

  const bob = await admitted(server, room, b);
  const seen = recordMessages(bob);
  await barrier(bob, room, b);
  expect(withoutBarriers(seen)).toEqual([{ topic: peerTopic(room, a, 'presence'), payload: 'offer from alice', retain: true, qos: 1 }]);
});

it('clears it through the Will when the socket dies', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await admitted(server, room, a, { will: appWill(room, a) });
  await alice.publishAsync(peerTopic(room, a, 'presence'), 'here', { qos: 1, retain: true });
  const bob = await admitted(server, room, b);

  // Published on Alice's behalf (the Will), not by the broker's own clean-up.
  const willFired = presenceCleared(server, room, a, clientIdFor(room, a));
  const bobSawClear = nextMessage(bob, (m) => m.topic === peerTopic(room, a, 'presence') && m.payload === '');
  alice.stream.destroy();
  await willFired;
  await bobSawClear;
  expect(await retainedTopics(server.broker, peerTopic(room, a, 'presence'))).toEqual([]);
});

it('clears it itself when a peer hangs up cleanly without clearing (no Will fires then)', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await admitted(server, room, a, { will: appWill(room, a) });
  await alice.publishAsync(peerTopic(room, a, 'presence'), 'here', { qos: 1, retain: true });
  const bob = await admitted(server, room, b);

  const bobSawClear = nextMessage(bob, (m) => m.topic === peerTopic(room, a, 'presence') && m.payload === '');
  const brokerCleared = presenceCleared(server, room, a, 'broker');
  await alice.endAsync(); // DISCONNECT: the Will is discarded [MQTT-3.14.4-3]
  await brokerCleared;
  await bobSawClear;
  expect(await retainedTopics(server.broker, peerTopic(room, a, 'presence'))).toEqual([]);
});

it('leaves nothing retained in a room once both peers have left', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await admitted(server, room, a, { will: appWill(room, a) });
  const bob = await admitted(server, room, b, { will: appWill(room, b) });
  const stored = Promise.all([
    published(server, peerTopic(room, a, 'presence'), { retain: true }),
    published(server, peerTopic(room, b, 'presence'), { retain: true }),
  ]);
  await alice.publishAsync(peerTopic(room, a, 'presence'), 'alice', { qos: 1, retain: true });
  await bob.publishAsync(peerTopic(room, b, 'presence'), 'bob', { qos: 1, retain: true });
  await stored;
  expect((await retainedTopics(server.broker, `${roomPrefix(room)}/#`)).sort()).toEqual(
    [peerTopic(room, a, 'presence'), peerTopic(room, b, 'presence')].sort(),
  );

  // One hangs up cleanly, the other crashes.
  const cleared = Promise.all([presenceCleared(server, room, a), presenceCleared(server, room, b)]);
  await alice.endAsync();
  bob.stream.destroy();
  await cleared;

  expect(await retainedTopics(server.broker, `${roomPrefix(room)}/#`)).toEqual([]);
  const carolId = newPeerId();
  const carol = await admitted(server, room, carolId);
  const seen = recordMessages(carol);
  await barrier(carol, room, carolId);
  expect(withoutBarriers(seen)).toEqual([]);
});
