/**
 * Retained state can't grow with history: only presence is retained, at most
 * one message per topic, and a room that empties keeps nothing. Checked by
 * reading Aedes's retained store directly after many rooms have come and
 * gone, however their peers left.
 */
import { afterEach, expect, it } from 'vitest';
import { peerTopic, type PeerId, type RoomId } from '../../protocol/index';
import {
  admitted,
  cleanup,
  newPeerId,
  newRoomId,
  presenceCleared,
  published,
  retainedTopics,
  startTestServer,
  type TestServer,
} from '../helpers/broker';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

const ROOMS = 60;

/** The app's Will: clear my presence if I vanish. */
const will = (room: RoomId, peer: PeerId) => ({ topic: peerTopic(room, peer, 'presence'), payload: Buffer.alloc(0), qos: 1 as const, retain: true });

/** A peer that joins, retains its presence (and an offer, overwriting it), then leaves in the given way. */
async function visit(server: TestServer, room: RoomId, peer: PeerId, leave: 'hang-up' | 'crash' | 'thrown-out'): Promise<void> {
  const client = await admitted(server, room, peer, { will: will(room, peer) });
  const topic = peerTopic(room, peer, 'presence');
  const stored = published(server, topic, { retain: true, empty: false });
  await client.publishAsync(topic, 'here', { qos: 1, retain: true });
  await client.publishAsync(topic, 'here, with an offer', { qos: 1, retain: true });
  await stored;
  const cleared = presenceCleared(server, room, peer);
  if (leave === 'hang-up') await client.endAsync();
  else if (leave === 'crash') client.stream.destroy();
  else {
    // A refused publish (retain on the signal topic) gets the client disconnected by the broker.
    const gone = waitFor(client, 'close');
    client.publish(peerTopic(room, peer, 'signal'), 'x', { qos: 0, retain: true });
    await gone;
  }
  await cleared;
}

it('keeps at most one retained message per presence topic', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const peer = newPeerId();
  const client = await admitted(server, room, peer);
  const topic = peerTopic(room, peer, 'presence');
  for (const text of ['one', 'two', 'three']) {
    const stored = published(server, topic, { retain: true });
    await client.publishAsync(topic, text, { qos: 1, retain: true });
    await stored;
  }
  expect(await retainedTopics(server.broker, '#')).toEqual([topic]);
});

it(`holds nothing retained after ${ROOMS} rooms have come and gone, whichever way their peers left`, async () => {
  const server = await startTestServer();
  const ways = ['hang-up', 'crash', 'thrown-out'] as const;
  for (let i = 0; i < ROOMS; i += 1) {
    const room = newRoomId();
    const [a, b] = [newPeerId(), newPeerId()];
    await Promise.all([visit(server, room, a, ways[i % 3]!), visit(server, room, b, ways[(i + 1) % 3]!)]);
  }
  expect(await retainedTopics(server.broker, '#')).toEqual([]);
});
