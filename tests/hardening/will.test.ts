/**
 * Last Wills against the real server process (issue 11, "foreign Will"). A
 * Will is published when its connection dies, in a cluster by another
 * process long after, so it is judged at CONNECT: the only one allowed is
 * the client's own presence topic, empty, retained, QoS ≤ 1. Before, all five
 * hostile Wills below got CONNACK 0 and were stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientIdFor, peerTopic, roomFilters, type PeerId, type RoomId } from '../../protocol/index';
import { cleanup, makeDist } from '../helpers/broker';
import { connectMqtt, joinWithPresence, metric, mqttUrlOf, newPeerId, newRoom } from '../helpers/hostile';
import { connectWithWill, type WillSpec } from '../helpers/mqtt-bytes';
import { RawMqtt } from '../helpers/raw-mqtt';
import { startServer, type ServerProcess } from '../helpers/server';
import { waitFor } from '../helpers/wait';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ DIST_DIR: await makeDist() });
});
afterAll(async () => {
  await server?.stop();
  await cleanup();
});

const NOT_AUTHORIZED = 5;
const own = (room: RoomId, peer: PeerId): WillSpec => ({ topic: peerTopic(room, peer, 'presence'), payload: '', qos: 1, retain: true });

const hostile: Array<[string, (room: RoomId, peer: PeerId) => WillSpec]> = [
  ["another room's presence", (_room, peer) => ({ ...own(newRoom(), peer) })],
  ['its own signal topic', (room, peer) => ({ ...own(room, peer), topic: peerTopic(room, peer, 'signal'), retain: false })],
  ['$SYS/x', (room, peer) => ({ ...own(room, peer), topic: '$SYS/x' })],
  ['QoS 2', (room, peer) => ({ ...own(room, peer), qos: 2 })],
  ['a 40 KiB payload', (room, peer) => ({ ...own(room, peer), payload: Buffer.alloc(40 * 1024, 0x61) })],
  ['a payload on its own presence', (room, peer) => ({ ...own(room, peer), payload: 'here' })],
  ['not retained', (room, peer) => ({ ...own(room, peer), retain: false })],
];

it.each(hostile)('a Will on %s is refused at CONNECT with CONNACK 5', async (_what, willFor) => {
  const room = newRoom();
  const peer = newPeerId();
  const client = await RawMqtt.open(mqttUrlOf(server.url));
  try {
    const code = await client.connect(connectWithWill(clientIdFor(room, peer), willFor(room, peer)));
    console.log(`[will] ${_what}: CONNACK ${code}`);
    expect(code).toBe(NOT_AUTHORIZED);
    await client.whenClosed();
  } finally {
    client.terminate();
  }
});

it('counts each refused Will', async () => {
  expect(await metric(server.url, 'tandem_refused_total', { reason: 'will' })).toBe(hostile.length);
});

it("the app's own Will still works: CONNACK 0, and when its socket dies the other peer sees its presence cleared", async () => {
  const url = mqttUrlOf(server.url);
  const room = newRoom();
  const [a, b] = [newPeerId(), newPeerId()];
  // Through connectMqtt, which sets the app's Will (own presence, empty, retained, QoS 1).
  const alice = await joinWithPresence(url, room, a);
  const bob = await connectMqtt(url, room, b);
  const here = waitFor<[string, Buffer]>(bob, 'message', { filter: (t, p) => t === peerTopic(room, a, 'presence') && p.length > 0 });
  await bob.subscribeAsync(roomFilters(room), { qos: 1 });
  await here;
  const cleared = waitFor<[string, Buffer]>(bob, 'message', { filter: (t, p) => t === peerTopic(room, a, 'presence') && p.length === 0 });
  const refusedBefore = await metric(server.url, 'tandem_refused_total', { reason: 'not-admitted' });
  alice.stream.destroy(); // no DISCONNECT: the Will fires
  await cleared;
  expect(await metric(server.url, 'tandem_refused_total', { reason: 'not-admitted' })).toBe(refusedBefore);
  await bob.endAsync();
});
