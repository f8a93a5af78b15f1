/**
 * RedisRoomRegistry against a real redis-server: the same contract as the
 * in-memory registry (capacity, takeover by the same peer, identity-checked
 * leave), held atomically across several registries (= server processes),
 * and freed when a registry's heartbeat lapses.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../broker/config';
import { RedisRoomRegistry, type StalePlace } from '../../broker/rooms-redis';
import { newPeerId, type RoomId } from '../../protocol/index';
import { newRoomId } from '../helpers/broker';
import { findRedis, startRedis, type RedisServer } from '../helpers/redis';
import { waitFor } from '../helpers/wait';

const redisBinary = findRedis();
const logger = pino({ level: 'silent' });

describe.skipIf(redisBinary === null)('RedisRoomRegistry', () => {
  let redis: RedisServer;
  const connections: Redis[] = [];
  const registries: RedisRoomRegistry<object>[] = [];

  async function registry(serverId: string, ttlMs = 60_000): Promise<RedisRoomRegistry<object> & { conn: Redis }> {
    const conn = new Redis(redis.url);
    conn.on('error', () => {});
    connections.push(conn);
    const r = new RedisRoomRegistry<object>({ redis: conn, serverId, logger, ttlMs });
    registries.push(r);
    await r.start();
    return Object.assign(r, { conn });
  }

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.close().catch(() => {})));
    await Promise.all(connections.splice(0).map((c) => c.quit().catch(() => {})));
  });
  afterAll(() => redis?.stop());

  it('frees a place whose admit reply was lost: the connection leaves and a newcomer gets in (issue 11)', async () => {
    const one = await registry('one');
    const room = newRoomId();
    const [a, b, c] = [newPeerId(), newPeerId(), newPeerId()];
    const [ca, cb, cc] = [{}, {}, {}];
    expect(await one.admit(room, a, ca)).toBe(true);
    // The script runs in Redis, then its reply is lost on the way back (a dropped connection, a timeout).
    const scripted = one.conn as unknown as { tandemAdmit: (...args: string[]) => Promise<unknown> };
    const admit = scripted.tandemAdmit.bind(one.conn);
    scripted.tandemAdmit = async (...args) => {
      await admit(...args);
      throw new Error('Connection is closed.');
    };
    await expect(one.admit(room, b, cb)).rejects.toThrow('Connection is closed.');
    scripted.tandemAdmit = admit;
    expect(await one.members(room)).toEqual(expect.arrayContaining([a, b])); // the place was taken
    expect(await one.admit(room, c, cc)).toBe(false);
    // The connection goes away (hooks.ts release() asks even without an answer): its place is free.
    expect(await one.leave(room, b, cb)).toBe(true);
    expect(await one.members(room)).toEqual([a]);
    expect(await one.admit(room, c, cc)).toBe(true);
    // Redis is shared by the tests of this file: leave it as found.
    expect([await one.leave(room, a, ca), await one.leave(room, c, cc)]).toEqual([true, true]);
  });

  it('admits two peers per room, re-admits a member, and lets only the holding connection leave', async () => {
    const one = await registry('one');
    const two = await registry('two');
    const room = newRoomId();
    const [a, b, c] = [newPeerId(), newPeerId(), newPeerId()];
    const [ca, cb, cc, ca2] = [{}, {}, {}, {}];
    expect(await one.admit(room, a, ca)).toBe(true);
    expect(await two.admit(room, b, cb)).toBe(true);
    expect(await one.admit(room, c, cc)).toBe(false);
    expect(await two.admit(room, a, ca2)).toBe(true); // A again, through the other process: takes over its place
    expect(await one.leave(room, a, ca)).toBe(false); // the replaced connection can't evict the new one
    expect(await two.members(room)).toEqual(expect.arrayContaining([a, b]));
    expect(await one.roomCount()).toBe(1);
    expect(await two.leave(room, a, ca2)).toBe(true);
    expect(await one.leave(room, b, cb)).toBe(false); // B is held through `two`, not `one`
    expect(await two.leave(room, b, cb)).toBe(true);
    expect(await one.roomCount()).toBe(0);
  });

  it('never admits more than two of many peers racing for one room through several processes', async () => {
    const processes = await Promise.all(['p1', 'p2', 'p3'].map((id) => registry(id)));
    const room = newRoomId();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => processes[i % 3]!.admit(room, newPeerId(), {})));
    expect(results.filter(Boolean)).toHaveLength(2);
    expect(await processes[0]!.members(room)).toHaveLength(2);
  });

  it("frees a dead process's places: its own peer may return at once, the rest are swept after the TTL", async () => {
    const ttlMs = 600;
    const survivor = await registry('survivor', ttlMs);
    const doomed = await registry('doomed', ttlMs);
    const busy = newRoomId();
    const quiet = newRoomId();
    const [a, b, c, d] = [newPeerId(), newPeerId(), newPeerId(), newPeerId()];
    expect(await doomed.admit(busy, a, {})).toBe(true);
    expect(await survivor.admit(busy, b, {})).toBe(true);
    expect(await doomed.admit(quiet, d, {})).toBe(true);

    // "Crash": the process loses Redis without leaving; its heartbeat key expires after ttlMs.
    doomed.conn.disconnect();
    const takeover = waitFor<[StalePlace]>(survivor, 'takeover');

    // Before the TTL: A's return through the survivor is recognised as A, not counted as a third.
    expect(await survivor.admit(busy, a, {})).toBe(true);
    expect((await takeover)[0]).toEqual({ room: busy, peer: a, server: 'doomed' });
    expect(await survivor.admit(busy, c, {})).toBe(false);

    // After it: the sweep frees D's place in the quiet room and says so.
    const [freed] = await waitFor<[StalePlace[]]>(survivor, 'stale', { timeoutMs: 5 * ttlMs });
    expect(freed).toEqual([{ room: quiet, peer: d, server: 'doomed' }]);
    expect(await survivor.members(quiet as RoomId)).toEqual([]);
    expect(await survivor.roomCount()).toBe(1);
  });
});

describe('REDIS_URL and SERVER_TTL_MS', () => {
  it('default to one in-memory process with a 15 s TTL', () => {
    expect(loadConfig({})).toMatchObject({ redisUrl: null, serverTtlMs: 15_000 });
  });

  it('accept redis:// and rediss:// URLs', () => {
    expect(loadConfig({ REDIS_URL: 'rediss://:secret@redis.internal:6380/2', SERVER_TTL_MS: '5000' })).toMatchObject({
      redisUrl: 'rediss://:secret@redis.internal:6380/2',
      serverTtlMs: 5000,
    });
  });

  it.each([
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'http://redis:6379'],
    ['SERVER_TTL_MS', '100'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
