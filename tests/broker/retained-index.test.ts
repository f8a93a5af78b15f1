/**
 * broker/retained.ts: retained messages kept per room, in memory and in
 * Redis, looked up for a room's filters without touching other rooms, and
 * still found by any other filter.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRetainedStore, RedisRetainedStore, indexRetainedByRoom, topicMatches, type RetainedMethods, type RetainedStore } from '../../broker/retained';
import { peerTopic, roomFilters } from '../../protocol/index';
import { newPeerId } from '../helpers/peers';
import { newRoomId } from '../helpers/broker';
import { findRedis, startRedis, type RedisServer } from '../helpers/redis';

it.each([
  ['tandem/v1/r/+/presence', 'tandem/v1/r/p/presence', true],
  ['tandem/v1/r/+/presence', 'tandem/v1/r/p/signal', false],
  ['tandem/v1/r/+/presence', 'tandem/v1/r/p/presence/x', false],
  ['tandem/#', 'tandem/v1/r/p/presence', true],
  ['#', '$SYS/x/heartbeat', false],
  ['+/x', '/x', true],
  ['a/+', 'a', false],
])('topicMatches(%s, %s) = %s', (filter, topic, expected) => {
  expect(topicMatches(filter, topic)).toBe(expected);
});

async function collect(stream: AsyncIterable<{ topic: string; payload: Buffer }>): Promise<string[]> {
  const topics: string[] = [];
  for await (const p of stream) topics.push(`${p.topic}=${p.payload.toString()}`);
  return topics.sort();
}

function contract(name: string, makeStore: () => RetainedStore) {
  it(`${name}: a room's filters find that room's messages only; an empty payload deletes; other filters scan all`, async () => {
    const persistence = indexRetainedByRoom({} as RetainedMethods, makeStore());
    const [one, two] = [newRoomId(), newRoomId()];
    const [a, b, c] = [newPeerId(), newPeerId(), newPeerId()];
    await persistence.storeRetained({ topic: peerTopic(one, a, 'presence'), payload: Buffer.from('a1'), qos: 1 });
    await persistence.storeRetained({ topic: peerTopic(one, b, 'presence'), payload: Buffer.from('b1'), qos: 1 });
    await persistence.storeRetained({ topic: peerTopic(two, c, 'presence'), payload: Buffer.from('c2'), qos: 0 });
    await persistence.storeRetained({ topic: 'elsewhere/x', payload: Buffer.from('x'), qos: 0 });

    expect(await collect(persistence.createRetainedStreamCombi(roomFilters(one)))).toEqual(
      [`${peerTopic(one, a, 'presence')}=a1`, `${peerTopic(one, b, 'presence')}=b1`].sort(),
    );
    await persistence.storeRetained({ topic: peerTopic(one, a, 'presence'), payload: Buffer.alloc(0), qos: 1 });
    expect(await collect(persistence.createRetainedStreamCombi(roomFilters(one)))).toEqual([`${peerTopic(one, b, 'presence')}=b1`]);
    expect(await collect(persistence.createRetainedStream('#'))).toHaveLength(3);
    expect(await collect(persistence.createRetainedStream('elsewhere/+'))).toEqual(['elsewhere/x=x']);
    // The callback form Aedes may use.
    await new Promise<void>((resolve, reject) =>
      persistence.storeRetained({ topic: peerTopic(two, c, 'presence'), payload: '', qos: 0 }, (err) => (err ? reject(err) : resolve())),
    );
    expect(await collect(persistence.createRetainedStreamCombi(roomFilters(two)))).toEqual([]);
  });
}

contract('memory', () => new MemoryRetainedStore());

describe.skipIf(findRedis() === null)('in Redis', () => {
  let redis: RedisServer;
  let conn: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    conn = new Redis(redis.url);
  });
  afterAll(async () => {
    await conn?.quit();
    await redis?.stop();
  });
  contract('redis', () => new RedisRetainedStore(conn));

  it('keeps the QoS and the payload bytes', async () => {
    const store = new RedisRetainedStore(conn);
    const room = newRoomId();
    const topic = peerTopic(room, newPeerId(), 'presence');
    const payload = Buffer.from([0, 1, 2, 255]);
    await store.put(topic, payload, 1);
    expect(await store.room(room)).toEqual([{ cmd: 'publish', topic, payload, qos: 1, retain: true }]);
  });
});
