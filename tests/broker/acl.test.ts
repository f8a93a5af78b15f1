/**
 * The broker's access rules, seen from a client: what it may subscribe to,
 * what it may publish, and who it may claim to be.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { peerTopic, roomFilters, roomPrefix } from '../../protocol/index';
import {
  admitted,
  barrier,
  cleanup,
  connectPeer,
  connectRaw,
  metricValue,
  newPeerId,
  newRoomId,
  recordMessages,
  retainedTopics,
  startTestServer,
  subscribeRefused,
  withoutBarriers,
} from '../helpers/broker';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

describe('SUBSCRIBE', () => {
  const room = newRoomId();
  const otherRoom = newRoomId();
  const refused: Array<[string, string]> = [
    ['everything', '#'],
    ['everything below any first level', '+/#'],
    ['the broker\'s $SYS tree', '$SYS/#'],
    ['all of tandem', 'tandem/#'],
    ['presence in every room', 'tandem/v1/+/+/presence'],
    ['another room\'s presence', roomFilters(otherRoom)[0]!],
    ['another room\'s signals', roomFilters(otherRoom)[1]!],
    ['its own room with #', `${roomPrefix(room)}/#`],
    ['one peer\'s topic in its own room', peerTopic(room, newPeerId(), 'signal')],
  ];

  it.each(refused)('refuses %s (%s) by closing the connection, without a SUBACK', async (_what, filter) => {
    const server = await startTestServer();
    const client = await connectPeer(server, room, newPeerId());
    expect(await subscribeRefused(client, filter)).toBeNull();
    expect(client.connected).toBe(false);
  });

  it('grants exactly the two filters of its own room', async () => {
    const server = await startTestServer();
    const client = await connectPeer(server, room, newPeerId());
    const granted = await client.subscribeAsync(roomFilters(room), { qos: 1 });
    expect(granted.map((g) => [g.topic, g.qos])).toEqual(roomFilters(room).map((f) => [f, 1]));
  });

  it('counts a refused subscription in /metrics', async () => {
    const server = await startTestServer();
    const before = await metricValue(server, 'tandem_refused_total', { reason: 'subscribe-filter' });
    const client = await connectPeer(server, room, newPeerId());
    await subscribeRefused(client, '#');
    expect(await metricValue(server, 'tandem_refused_total', { reason: 'subscribe-filter' })).toBe(before + 1);
  });
});

describe('PUBLISH', () => {
  it.each([
    ['another room', 'other-room'],
    ['its own room with a spoofed peer id', 'spoofed-peer'],
  ] as const)('to %s is refused, the publisher disconnected, and nothing delivered', async (_what, target) => {
    const server = await startTestServer();
    const victimRoom = newRoomId();
    const victimPeer = newPeerId();
    const victim = await admitted(server, victimRoom, victimPeer);
    const seen = recordMessages(victim);

    // Each case breaks exactly one rule: another room under the victim's own
    // peer id, or the victim's room under another peer id.
    const attacker =
      target === 'other-room' ? await admitted(server, newRoomId(), victimPeer) : await admitted(server, victimRoom, newPeerId());
    const forged = peerTopic(victimRoom, victimPeer, 'signal');
    attacker.publish(forged, 'forged', { qos: 0 });
    await waitFor(attacker, 'close');

    await barrier(victim, victimRoom, victimPeer);
    expect(withoutBarriers(seen).filter((m) => m.payload === 'forged' || m.topic === forged)).toEqual([]);
    expect(await metricValue(server, 'tandem_refused_total', { reason: target })).toBe(1);
  });

  it.each([
    ['$SYS/x', '$SYS/x'],
    ['a garbage topic', 'hello/world'],
    ['a topic with a valid shape but bad ids', 'tandem/v1/room/peer/signal'],
  ])('to %s is refused and the publisher disconnected', async (_what, topic) => {
    const server = await startTestServer();
    const room = newRoomId();
    const witnessPeer = newPeerId();
    const witness = await admitted(server, room, witnessPeer);
    const seen = recordMessages(witness);
    const client = await admitted(server, room, newPeerId());
    client.publish(topic, 'x', { qos: 0 });
    await waitFor(client, 'close');
    await barrier(witness, room, witnessPeer);
    expect(withoutBarriers(seen).filter((m) => m.payload === 'x')).toEqual([]);
    expect(await metricValue(server, 'tandem_refused_total', { reason: 'topic' })).toBe(1);
  });

  it('retained on the signal topic is refused, and nothing is delivered or kept', async () => {
    const server = await startTestServer();
    const room = newRoomId();
    const peer = newPeerId();
    const witnessPeer = newPeerId();
    const witness = await admitted(server, room, witnessPeer);
    const seen = recordMessages(witness);
    const client = await admitted(server, room, peer);
    client.publish(peerTopic(room, peer, 'signal'), 'kept?', { qos: 0, retain: true });
    await waitFor(client, 'close');
    await barrier(witness, room, witnessPeer);
    expect(withoutBarriers(seen).filter((m) => m.payload === 'kept?')).toEqual([]);
    expect(await retainedTopics(server.broker, peerTopic(room, peer, 'signal'))).toEqual([]);
    expect(await metricValue(server, 'tandem_refused_total', { reason: 'retain' })).toBe(1);
  });

  it('on its own topics is delivered to the other peer (the rules above are not refusing everything)', async () => {
    const server = await startTestServer();
    const room = newRoomId();
    const [a, b] = [newPeerId(), newPeerId()];
    const alice = await admitted(server, room, a);
    const bob = await admitted(server, room, b);
    const got = waitFor<[string, Buffer]>(bob, 'message', { filter: (t) => t === peerTopic(room, a, 'signal') });
    await alice.publishAsync(peerTopic(room, a, 'signal'), 'hello', { qos: 1 });
    const [, payload] = await got;
    expect(payload.toString()).toBe('hello');
    expect(alice.connected).toBe(true);
  });

  it('before being admitted (no SUBSCRIBE yet) is refused', async () => {
    const server = await startTestServer();
    const room = newRoomId();
    const peer = newPeerId();
    const client = await connectPeer(server, room, peer);
    client.publish(peerTopic(room, peer, 'signal'), 'early', { qos: 0 });
    await waitFor(client, 'close');
    expect(await metricValue(server, 'tandem_refused_total', { reason: 'not-admitted' })).toBe(1);
  });
});

describe('CONNECT', () => {
  it.each([
    ['no room/peer structure', 'mqttjs_1234'],
    ['a room id that is not one', `room.${newPeerId()}`],
    ['three parts', `${newRoomId()}.${newPeerId()}.x`],
  ])('refuses a clientId with %s (CONNACK 2, identifier rejected)', async (_what, clientId) => {
    const server = await startTestServer();
    await expect(connectRaw(server, { clientId })).rejects.toMatchObject({ code: 2 });
  });

  it('refuses a persistent session (clean: false)', async () => {
    const server = await startTestServer();
    await expect(connectPeer(server, newRoomId(), newPeerId(), { clean: false })).rejects.toMatchObject({ code: 5 });
  });
});
