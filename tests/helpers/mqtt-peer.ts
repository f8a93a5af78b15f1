/**
 * A peer that speaks to a broker exactly as app/signaling/mqtt.ts does
 * (clientId `<room>.<peer>`, MQTT 3.1.1, clean session, QoS 1, a retained
 * empty Will on its presence topic), against any MQTT-over-WebSocket URL:
 * our server's /mqtt in one process or several, or Mosquitto. Payloads are
 * sealed with the room's real key, so what crosses the broker is what the
 * app would send.
 *
 *   const room = await testRoom();
 *   const a = await joinAt(url1, room, newPeerId());
 *   await a.publish('presence', { type: 'presence', offer: null });
 *   const b = await joinAt(url2, room, newPeerId());
 *   const seen = await b.next({ from: a.peer, kind: 'presence' });
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Body } from '../../app/call/outbox';
import {
  deriveKey,
  deriveRoomId,
  newSecret,
  newSessionId,
  openMessage,
  parseTopic,
  peerTopic,
  roomFilters,
  sealMessage,
  topicKindOf,
  type PeerId,
  type RoomId,
  type SignalMessage,
  type TopicKind,
  PROTOCOL_VERSION,
} from '../../protocol/index';
import { subscribeGranted } from './broker';
import { appClientOptions, connack } from './mqtt-client';
import { waitFor } from './wait';

export interface TestRoom {
  room: RoomId;
  key: CryptoKey;
}

/** A fresh call link's room id and signaling key. */
export async function testRoom(): Promise<TestRoom> {
  const secret = newSecret();
  return { room: await deriveRoomId(secret), key: await deriveKey(secret) };
}

/** What a peer received: the raw packet and, unless it was an empty (clearing) payload, the opened message. */
export interface Delivery {
  topic: string;
  from: PeerId;
  kind: TopicKind;
  retain: boolean;
  empty: boolean;
  message: SignalMessage | null;
}

export interface TestPeer {
  readonly room: RoomId;
  readonly peer: PeerId;
  readonly client: MqttClient;
  /** SUBACK return codes for the room's two filters (128 = refused); [] if not subscribed. */
  granted: number[];
  /** Everything received since connect, opened. */
  readonly received: Delivery[];
  /** Seals and publishes like the app: QoS 1, retained only on presence. */
  publish(body: Body): Promise<void>;
  /** The empty retained presence the app publishes on hang-up. */
  clearPresence(): Promise<void>;
  /** The first delivery (already received or still to come) that matches. */
  next(match: Partial<Pick<Delivery, 'from' | 'kind' | 'retain' | 'empty'>> & { type?: SignalMessage['type'] }, timeoutMs?: number): Promise<Delivery>;
  /** Cuts the socket without DISCONNECT, so the broker fires the Will. */
  drop(): void;
  end(): Promise<void>;
}

const open = new Set<MqttClient>();

/** Connects (no subscribe yet). Rejects if CONNACK refuses or the socket closes first. */
export async function connectAt(url: string, { room, key }: TestRoom, peer: PeerId, options: IClientOptions = {}): Promise<TestPeer> {
  const client = mqtt.connect(url, { ...appClientOptions(room, peer), ...options });
  open.add(client);
  await connack(client, peer);

  const session = newSessionId();
  const received: Delivery[] = [];
  const deliveries = new EventEmitter<{ delivery: [Delivery] }>();
  // Opening is async; a queue keeps `received` in arrival order.
  let opening = Promise.resolve();
  client.on('message', (topic, payload, packet) => {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    const bytes = new Uint8Array(payload);
    opening = opening.then(async () => {
      const message = bytes.length === 0 ? null : await openMessage(key, topic, parsed.kind, bytes).catch(() => null);
      const delivery: Delivery = { topic, from: parsed.peer, kind: parsed.kind, retain: packet.retain, empty: bytes.length === 0, message };
      received.push(delivery);
      deliveries.emit('delivery', delivery);
    });
  });

  const matches = (d: Delivery, m: Parameters<TestPeer['next']>[0]): boolean =>
    (m.from === undefined || d.from === m.from) &&
    (m.kind === undefined || d.kind === m.kind) &&
    (m.retain === undefined || d.retain === m.retain) &&
    (m.empty === undefined || d.empty === m.empty) &&
    (m.type === undefined || d.message?.type === m.type);

  return {
    room,
    peer,
    client,
    granted: [],
    received,
    async publish(body) {
      const message = { v: PROTOCOL_VERSION, from: peer, session, gen: 0, ...body } as SignalMessage;
      const topic = peerTopic(room, peer, topicKindOf(message.type));
      await client.publishAsync(topic, Buffer.from(await sealMessage(key, topic, message)), { qos: 1, retain: message.type === 'presence' });
    },
    async clearPresence() {
      await client.publishAsync(peerTopic(room, peer, 'presence'), Buffer.alloc(0), { qos: 1, retain: true });
    },
    async next(match, timeoutMs = 5000) {
      const already = received.find((d) => matches(d, match));
      if (already) return already;
      const [delivery] = await waitFor<[Delivery]>(deliveries, 'delivery', { timeoutMs, filter: (d) => matches(d, match) });
      return delivery;
    },
    drop() {
      client.stream.destroy();
    },
    async end() {
      open.delete(client);
      await client.endAsync(true).catch(() => {});
    },
  };
}

/** Connects and subscribes to the room's filters like the app; `granted` tells whether it got in. */
export async function joinAt(url: string, room: TestRoom, peer: PeerId, options: IClientOptions = {}): Promise<TestPeer> {
  const p = await connectAt(url, room, peer, options);
  p.granted = await subscribeGranted(p.client, roomFilters(room.room));
  return p;
}

/** Ends every client these helpers opened; register with afterEach. */
export async function closePeers(): Promise<void> {
  await Promise.all([...open].map((c) => c.endAsync(true).catch(() => {})));
  open.clear();
}
