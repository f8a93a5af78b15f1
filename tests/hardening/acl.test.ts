/**
 * Every forbidden SUBSCRIBE and PUBLISH, against the real server process with
 * real mqtt.js clients: each is refused (SUBACK 0x80, or the publisher
 * disconnected), nothing reaches the victim's room, and nothing is left
 * retained there. (tests/broker/acl.test.ts checks the same rules in-process,
 * with the metric for each reason.)
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, peerTopic, roomFilters, roomPrefix, type PeerId, type RoomId } from '../../protocol/index';
import { cleanup, makeDist } from '../helpers/broker';
import { connectMqtt, mqttUrlOf, newPeerId, newRoom } from '../helpers/hostile';
import { startServer, type ServerProcess } from '../helpers/server';
import { waitFor } from '../helpers/wait';

let server: ServerProcess;
let url: string;
beforeAll(async () => {
  server = await startServer({ DIST_DIR: await makeDist(), LOG_LEVEL: 'warn' });
  url = mqttUrlOf(server.url);
});
afterAll(async () => {
  await server.stop();
  await cleanup();
});

interface Victim {
  room: RoomId;
  peer: PeerId;
  client: MqttClient;
  /** Every message the victim received after joining, barrier markers excluded. */
  seen: string[];
}

/** A peer alone in a fresh room, its retained presence stored, recording what it receives. */
async function victim(): Promise<Victim> {
  const room = newRoom();
  const peer = newPeerId();
  const client = await connectMqtt(url, room, peer);
  await client.subscribeAsync(roomFilters(room), { qos: 1 });
  const own = waitFor(client, 'message', { filter: (t: string) => t === peerTopic(room, peer, 'presence') });
  await client.publishAsync(peerTopic(room, peer, 'presence'), 'victim here', { qos: 1, retain: true });
  await own;
  const seen: string[] = [];
  client.on('message', (topic, payload) => {
    if (!payload.toString().startsWith('barrier')) seen.push(`${topic} ${payload.toString()}`);
  });
  return { room, peer, client, seen };
}

let barriers = 0;
/** Publishes to itself and waits for the echo: whatever the broker was going to deliver before it has arrived. */
async function barrier(client: MqttClient, room: RoomId, peer: PeerId): Promise<void> {
  const marker = `barrier ${++barriers}`;
  const echo = waitFor<[string, Buffer]>(client, 'message', { filter: (_t, p) => p.toString() === marker });
  await client.publishAsync(peerTopic(room, peer, 'signal'), marker, { qos: 1 });
  await echo;
}

/** What a later joiner finds retained in the room: only the victim's own presence may be there. */
async function retainedIn(room: RoomId): Promise<string[]> {
  const peer = newPeerId();
  const late = await connectMqtt(url, room, peer);
  const found: string[] = [];
  late.on('message', (topic, payload, packet) => {
    if (packet.retain) found.push(`${topic} ${payload.toString()}`);
  });
  await late.subscribeAsync(roomFilters(room), { qos: 1 });
  await barrier(late, room, peer);
  await late.endAsync();
  return found;
}

describe('forbidden SUBSCRIBE: the connection is closed without a SUBACK, and the victim room stays private', () => {
  const filters: Array<[string, (v: Victim, own: RoomId) => string]> = [
    ['everything', () => '#'],
    ['everything below any first level', () => '+/#'],
    ['$SYS', () => '$SYS/#'],
    ['one $SYS topic', () => '$SYS/broker/clients/connected'],
    ['all of tandem', () => 'tandem/#'],
    ['all rooms of this version', () => 'tandem/v1/#'],
    ['presence in every room', () => 'tandem/v1/+/+/presence'],
    ['signals in every room', () => 'tandem/v1/+/+/signal'],
    ["the victim room's presence", (v) => roomFilters(v.room)[0]!],
    ["the victim room's signals", (v) => roomFilters(v.room)[1]!],
    ['the victim room with #', (v) => `${roomPrefix(v.room)}/#`],
    ['the victim room with +/+', (v) => `${roomPrefix(v.room)}/+/+`],
    ["the victim's own signal topic", (v) => peerTopic(v.room, v.peer, 'signal')],
    ['its own room with #', (_v, own) => `${roomPrefix(own)}/#`],
    ['its own room with +/+', (_v, own) => `${roomPrefix(own)}/+/+`],
  ];

  it.each(filters)('%s', async (_what, filterFor) => {
    const v = await victim();
    const ownRoom = newRoom();
    const attackerPeer = newPeerId();
    const attacker = await connectMqtt(url, ownRoom, attackerPeer);
    const stolen: string[] = [];
    attacker.on('message', (topic, payload) => {
      if (!payload.toString().startsWith('barrier')) stolen.push(`${topic} ${payload.toString()}`);
    });
    const filter = filterFor(v, ownRoom);
    const closedAt = waitFor(attacker, 'close');
    const suback = attacker.subscribeAsync(filter, { qos: 1 }).then(
      (g) => g.map((x) => x.qos),
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? null,
    );
    await closedAt;
    expect(await suback).toBeNull();
    expect(stolen).toEqual([]);
    await v.client.endAsync();
  });
});

describe('forbidden PUBLISH: the publisher is disconnected, nothing is delivered, nothing retained', () => {
  type Attack = (v: Victim) => { room: RoomId; peer: PeerId; join: boolean; topic: string; payload?: Buffer; qos?: 0 | 1 | 2; retain?: boolean };
  const attacks: Array<[string, Attack]> = [
    ['into the victim room under the victim peer id, from another room', (v) => ({ room: newRoom(), peer: v.peer, join: true, topic: peerTopic(v.room, v.peer, 'signal') })],
    ['into the victim room under a third peer id, from another room', (v) => ({ room: newRoom(), peer: newPeerId(), join: true, topic: peerTopic(v.room, newPeerId(), 'signal') })],
    ["as the victim, from inside the victim's room (spoofed peer id)", (v) => ({ room: v.room, peer: newPeerId(), join: true, topic: peerTopic(v.room, v.peer, 'signal') })],
    ["the victim's presence, retained, from inside the room", (v) => ({ room: v.room, peer: newPeerId(), join: true, topic: peerTopic(v.room, v.peer, 'presence'), retain: true })],
    ["another room's presence, retained", (v) => ({ room: newRoom(), peer: newPeerId(), join: true, topic: peerTopic(v.room, newPeerId(), 'presence'), retain: true })],
    ['retained on its own signal topic', (v) => {
      const peer = newPeerId();
      return { room: v.room, peer, join: true, topic: peerTopic(v.room, peer, 'signal'), retain: true };
    }],
    ['to $SYS', () => ({ room: newRoom(), peer: newPeerId(), join: true, topic: '$SYS/broker/uptime' })],
    ['to a topic outside the layout', () => ({ room: newRoom(), peer: newPeerId(), join: true, topic: 'tandem/v1/x' })],
    ['with the right shape but ids that are not ids', () => ({ room: newRoom(), peer: newPeerId(), join: true, topic: 'tandem/v1/room/peer/signal' })],
    ['at QoS 2', (v) => {
      const peer = newPeerId();
      return { room: v.room, peer, join: true, topic: peerTopic(v.room, peer, 'signal'), qos: 2 };
    }],
    ['a payload over MAX_PAYLOAD_BYTES', (v) => {
      const peer = newPeerId();
      return { room: v.room, peer, join: true, topic: peerTopic(v.room, peer, 'signal'), payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x61) };
    }],
    ['on its own topic before being admitted (no SUBSCRIBE)', (v) => {
      const peer = newPeerId();
      return { room: v.room, peer, join: false, topic: peerTopic(v.room, peer, 'signal') };
    }],
  ];

  it.each(attacks)('%s', async (_what, attackFor) => {
    const v = await victim();
    const a = attackFor(v);
    const attacker = await connectMqtt(url, a.room, a.peer);
    if (a.join) {
      const granted = (await attacker.subscribeAsync(roomFilters(a.room), { qos: 1 })).map((g) => g.qos);
      expect(granted).toEqual([1, 1]);
    }
    const gone = waitFor(attacker, 'close');
    attacker.publish(a.topic, a.payload ?? Buffer.from('forged'), { qos: a.qos ?? 0, retain: a.retain ?? false });
    await gone;

    await barrier(v.client, v.room, v.peer);
    // All the victim may see is an attacker inside its room being cleared out (its Will, the broker's clean-up): empty presence.
    const departed = `${peerTopic(a.room, a.peer, 'presence')} `;
    expect(v.seen.filter((m) => m !== departed)).toEqual([]);
    expect(await retainedIn(v.room)).toEqual([`${peerTopic(v.room, v.peer, 'presence')} victim here`]);
    await v.client.endAsync();
  });
});

it('the rules refuse only what they should: the join sequence between two real peers works on the same server', async () => {
  const room = newRoom();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await connectMqtt(url, room, a);
  const bob = await connectMqtt(url, room, b);
  await Promise.all([alice.subscribeAsync(roomFilters(room), { qos: 1 }), bob.subscribeAsync(roomFilters(room), { qos: 1 })]);
  const got = waitFor<[string, Buffer]>(bob, 'message', { filter: (t) => t === peerTopic(room, a, 'signal') });
  await alice.publishAsync(peerTopic(room, a, 'signal'), 'hello', { qos: 1 });
  expect((await got)[1].toString()).toBe('hello');
  await Promise.all([alice.endAsync(), bob.endAsync()]);
});
