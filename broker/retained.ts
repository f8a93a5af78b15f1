/**
 * Retained messages, indexed by room.
 *
 * Aedes asks its persistence for the retained messages matching each
 * SUBSCRIBE. Both stock persistences answer by scanning every retained
 * message the broker holds: aedes-persistence (memory) tests each stored
 * topic against the filter with a fresh qlobber, and aedes-persistence-redis
 * HSCANs one hash of all of them, ten entries per round trip. A join is
 * therefore O(rooms), and filling a broker O(rooms²): at 1,000 rooms that
 * scan was the largest cost in the profile of the join phase (qlobber's
 * `_split_words`, ~20% of the broker's CPU).
 *
 * Our topics say which room they belong to (tandem/v1/<room>/<peer>/<kind>),
 * and hooks.ts lets a client subscribe only to its own room's filters, so
 * every retained lookup concerns one room. This module keeps retained
 * messages per room (a Map here, one Redis hash per room in a cluster) and
 * answers those lookups from that room alone; any other filter (none in
 * practice) falls back to a full scan.
 *
 * It replaces the persistence's three retained-message methods on the
 * instance; everything else (Wills, subscriptions, QoS 1 state) stays with
 * the stock persistence.
 */
import { Readable } from 'node:stream';
import aedesMemoryPersistence from 'aedes-persistence';
import type { Redis } from 'ioredis';
import { parseRoomFilter, parseTopic, type RoomId } from '../protocol/index';

/** What Aedes needs back to deliver a retained message (aedes lib/handlers/subscribe.js `sendRetained`). */
export interface RetainedPacket {
  cmd: 'publish';
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: true;
}

export interface RetainedStore {
  /** Stores the message, or deletes the topic's message when the payload is empty [MQTT-3.3.1-10]. */
  put(topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void>;
  /** Every retained message of one room. */
  room(room: RoomId): Promise<RetainedPacket[]>;
  /** Every retained message (the fallback for filters that are not a room's). */
  all(): AsyncIterable<RetainedPacket>;
}

/** The part of an Aedes persistence this module replaces. */
export interface RetainedMethods {
  storeRetained(packet: { topic: string; payload: Buffer | string; qos: number }, cb?: (err: Error | null) => void): Promise<void> | void;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

/** Anything outside our topic layout lives under this pseudo-room. */
const OTHER = '';
const roomOf = (topic: string): RoomId | typeof OTHER => parseTopic(topic)?.room ?? OTHER;

/** Does `topic` match the MQTT filter `filter` (+ one level, # the rest) [MQTT-4.7]? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // [MQTT-4.7.2-1]: wildcards at the first level do not match $-topics.
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

async function* matching(store: RetainedStore, patterns: string[]): AsyncGenerator<RetainedPacket> {
  const rooms = patterns.map((p) => parseRoomFilter(p)?.room ?? null);
  const candidates: AsyncIterable<RetainedPacket> | Iterable<RetainedPacket> = rooms.every((r) => r !== null)
    ? (await Promise.all([...new Set(rooms as RoomId[])].map((room) => store.room(room)))).flat()
    : store.all();
  for await (const packet of candidates) {
    if (patterns.some((p) => topicMatches(p, packet.topic))) yield packet;
  }
}

/** Makes `persistence` keep and look up retained messages in `store`. Returns the same object. */
export function indexRetainedByRoom<P extends RetainedMethods>(persistence: P, store: RetainedStore): P {
  persistence.storeRetained = (packet, cb) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const done = store.put(packet.topic, payload, Math.min(2, Math.max(0, packet.qos)) as 0 | 1 | 2);
    if (!cb) return done;
    done.then(() => cb(null), (err: Error) => cb(err));
  };
  persistence.createRetainedStreamCombi = (patterns) => Readable.from(matching(store, patterns));
  persistence.createRetainedStream = (pattern) => Readable.from(matching(store, [pattern]));
  return persistence;
}

/** Aedes's default in-memory persistence, with retained messages indexed by room: the one-process setup. */
export function memoryPersistence(): ReturnType<typeof aedesMemoryPersistence> {
  const persistence = aedesMemoryPersistence();
  indexRetainedByRoom(persistence as unknown as RetainedMethods, new MemoryRetainedStore());
  return persistence;
}

export class MemoryRetainedStore implements RetainedStore {
  private readonly rooms = new Map<string, Map<string, RetainedPacket>>();

  async put(topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void> {
    const room = roomOf(topic);
    let messages = this.rooms.get(room);
    if (payload.length === 0) {
      messages?.delete(topic);
      // Bounded by rooms with retained presence now, not by every room ever seen.
      if (messages?.size === 0) this.rooms.delete(room);
      return;
    }
    if (!messages) {
      messages = new Map();
      this.rooms.set(room, messages);
    }
    messages.set(topic, { cmd: 'publish', topic, payload, qos, retain: true });
  }

  async room(room: RoomId): Promise<RetainedPacket[]> {
    return [...(this.rooms.get(room)?.values() ?? [])];
  }

  async *all(): AsyncIterable<RetainedPacket> {
    for (const messages of this.rooms.values()) yield* messages.values();
  }
}

/**
 * One hash per room: `<prefix>retained:<room>`, field = topic, value =
 * one QoS byte followed by the payload. Everything Aedes needs to deliver
 * it again is there (the topic, the QoS, the payload).
 */
export class RedisRetainedStore implements RetainedStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'tandem:',
  ) {}

  async put(topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void> {
    const key = this.key(roomOf(topic));
    if (payload.length === 0) await this.redis.hdel(key, topic);
    else await this.redis.hset(key, topic, Buffer.concat([Uint8Array.of(qos), payload]));
  }

  async room(room: RoomId): Promise<RetainedPacket[]> {
    return decode(await this.redis.hgetallBuffer(this.key(room)));
  }

  async *all(): AsyncIterable<RetainedPacket> {
    for await (const keys of this.redis.scanStream({ match: `${this.prefix}retained:*`, count: 1000 }) as AsyncIterable<string[]>) {
      for (const key of keys) yield* decode(await this.redis.hgetallBuffer(key));
    }
  }

  private key(room: string): string {
    return `${this.prefix}retained:${room === OTHER ? '_' : room}`;
  }
}

function decode(hash: Record<string, Buffer>): RetainedPacket[] {
  return Object.entries(hash).map(([topic, value]) => ({
    cmd: 'publish',
    topic,
    payload: value.subarray(1),
    qos: Math.min(2, value[0] ?? 0) as 0 | 1 | 2,
    retain: true,
  }));
}
