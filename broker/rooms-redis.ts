/**
 * The room registry in Redis, shared by every server process of a cluster
 * (REDIS_URL). Same contract as MemoryRoomRegistry (rooms.ts): at most
 * `capacity` peers per room, a peer held by one connection at a time, and
 * leave() only removes the connection that still holds the place.
 *
 * Keys (all under `prefix`, default "tandem:"):
 *
 *   room:<room>          hash  peer → connection id "<serverId>:<room>.<peer>:<n>"
 *   rooms                set   rooms with at least one member (roomCount)
 *   server:<id>          string, expires after `ttlMs`: server <id> is alive
 *   server-rooms:<id>    set   rooms where server <id> holds a member (what to purge when it dies)
 *   servers              set   server ids that have registered (what the sweeper checks)
 *
 * Each check-and-set runs as one Lua script, so two processes admitting the
 * last place at the same moment cannot both win (Redis runs a script
 * atomically). The scripts touch keys they compute themselves, which a single
 * Redis (or a primary with replicas) allows; Redis Cluster, which needs every
 * key declared up front and in one slot, does not.
 *
 * Crash safety: a member belongs to the server that admitted it, and a server
 * is alive only while it keeps refreshing its heartbeat key (every ttl/3).
 * Once the key expires:
 *   - admit() stops counting that server's members at once (it removes them
 *     from the room it is looking at), so a crashed process never blocks a room;
 *   - a peer reconnecting through another process finds its own old place and
 *     takes it over (`takeover`), instead of counting as a third;
 *   - every live server sweeps, at each heartbeat, the servers whose key has
 *     expired and purges all their members in one script (`stale`), so rooms,
 *     roomCount and retained presence do not keep ghosts.
 * A per-member TTL was the alternative; it costs one Redis write per
 * connection per refresh instead of one per server, and Redis 7.0 hashes
 * have no per-field expiry.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { ROOM_CAPACITY, type PeerId, type RoomId } from '../protocol/index';
import type { Logger } from './log';
import type { RoomRegistry } from './rooms';

/** The default heartbeat TTL: like a client's 1.5 × keepalive, a dead server's peers are gone within ~15–20 s. */
export const DEFAULT_SERVER_TTL_MS = 15_000;

export interface RedisRoomRegistryOptions {
  redis: Redis;
  /** This process's id; no ':' (it is the first field of a connection id). */
  serverId: string;
  logger: Logger;
  capacity?: number;
  /** How long a server counts as alive after its last heartbeat (ms). */
  ttlMs?: number;
  prefix?: string;
}

/** A place that a dead server's connection held and that is now free. */
export interface StalePlace {
  room: RoomId;
  peer: PeerId;
  /** The dead server. */
  server: string;
}

export interface RedisRoomRegistryEvents {
  /** `peer` was admitted here in place of its own connection on `fromServer` (another, usually dead, process). */
  takeover: [place: StalePlace];
  /** Places of dead servers were freed (by a sweep or by an admit that found them). */
  stale: [places: StalePlace[]];
  /**
   * This server's own heartbeat had expired (Redis unreachable, or the process
   * stalled past the TTL): other servers may have freed its places while its
   * clients stayed connected, so a room could now hold more than two.
   */
  lapsed: [];
}

// KEYS: room hash, rooms set, server-rooms:<self>
// ARGV: peer, connection id, capacity, room, prefix
// → nil when full; else { previous connection id of this peer or '', stalePeer1, staleConn1, … }
const ADMIT = `
local members = redis.call('HGETALL', KEYS[1])
local live, previous, stale = 0, '', {}
for i = 1, #members, 2 do
  local peer, conn = members[i], members[i + 1]
  if peer == ARGV[1] then
    previous = conn
  elseif redis.call('EXISTS', ARGV[5] .. 'server:' .. string.match(conn, '^[^:]*')) == 1 then
    live = live + 1
  else
    redis.call('HDEL', KEYS[1], peer)
    table.insert(stale, peer)
    table.insert(stale, conn)
  end
end
if previous == '' and live >= tonumber(ARGV[3]) then return nil end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[4])
table.insert(stale, 1, previous)
return stale
`;

// KEYS: room hash, rooms set, server-rooms:<self>
// ARGV: peer, connection id, room, "<self>:"
const LEAVE = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local rest = redis.call('HVALS', KEYS[1])
if #rest == 0 then redis.call('SREM', KEYS[2], ARGV[3]) end
for _, conn in ipairs(rest) do
  if string.sub(conn, 1, #ARGV[4]) == ARGV[4] then return 1 end
end
redis.call('SREM', KEYS[3], ARGV[3])
return 1
`;

// KEYS: server:<dead>, server-rooms:<dead>, rooms set, servers set
// ARGV: prefix, "<dead>:", dead id → { room1, peer1, … } that were freed
const PURGE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {} end
local freed = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = ARGV[1] .. 'room:' .. room
  local members = redis.call('HGETALL', key)
  for i = 1, #members, 2 do
    if string.sub(members[i + 1], 1, #ARGV[2]) == ARGV[2] then
      redis.call('HDEL', key, members[i])
      table.insert(freed, room)
      table.insert(freed, members[i])
    end
  end
  if redis.call('EXISTS', key) == 0 then redis.call('SREM', KEYS[3], room) end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[3])
return freed
`;

// KEYS: room hash; ARGV: prefix → peers whose server is alive
const MEMBERS = `
local members = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #members, 2 do
  if redis.call('EXISTS', ARGV[1] .. 'server:' .. string.match(members[i + 1], '^[^:]*')) == 1 then
    table.insert(live, members[i])
  end
end
return live
`;

type Scripted = Redis & {
  tandemAdmit(room: string, rooms: string, mine: string, ...argv: string[]): Promise<string[] | null>;
  tandemLeave(room: string, rooms: string, mine: string, ...argv: string[]): Promise<number>;
  tandemPurge(server: string, serverRooms: string, rooms: string, servers: string, ...argv: string[]): Promise<string[]>;
  tandemMembers(room: string, prefix: string): Promise<string[]>;
};

export class RedisRoomRegistry<C extends object> extends EventEmitter<RedisRoomRegistryEvents> implements RoomRegistry<C> {
  readonly serverId: string;
  private readonly redis: Scripted;
  private readonly logger: Logger;
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly prefix: string;
  /** The connection id each admitted client was given; a WeakMap, so a closed client needs no cleanup here. */
  private readonly connectionIds = new WeakMap<C, string>();
  private admissions = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: RedisRoomRegistryOptions) {
    super();
    if (options.serverId === '' || options.serverId.includes(':')) {
      throw new Error(`RedisRoomRegistry: serverId must be non-empty and without ':', got "${options.serverId}"`);
    }
    this.serverId = options.serverId;
    this.logger = options.logger;
    this.capacity = options.capacity ?? ROOM_CAPACITY;
    this.ttlMs = options.ttlMs ?? DEFAULT_SERVER_TTL_MS;
    this.prefix = options.prefix ?? 'tandem:';
    const redis = options.redis;
    redis.defineCommand('tandemAdmit', { numberOfKeys: 3, lua: ADMIT });
    redis.defineCommand('tandemLeave', { numberOfKeys: 3, lua: LEAVE });
    redis.defineCommand('tandemPurge', { numberOfKeys: 4, lua: PURGE });
    redis.defineCommand('tandemMembers', { numberOfKeys: 1, lua: MEMBERS });
    this.redis = redis as Scripted;
  }

  /** Registers this server as alive, sweeps dead ones, and keeps doing both every ttl/3 until close(). */
  async start(): Promise<void> {
    if (this.closed) throw new Error('RedisRoomRegistry: closed');
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err: unknown) => this.logger.error({ err }, 'room registry heartbeat failed'));
    }, Math.max(1, Math.floor(this.ttlMs / 3)));
  }

  async admit(room: RoomId, peer: PeerId, client: C): Promise<boolean> {
    if (this.closed) return false;
    const id = `${this.serverId}:${room}.${peer}:${++this.admissions}`;
    // Remembered before the script runs: if its reply is lost (a dropped
    // connection, a timeout) the place may be taken all the same, and only
    // this id lets leave() free it (issue 11, "cluster bookkeeping").
    // leave() compares it with what Redis holds, so a place never taken costs nothing.
    this.connectionIds.set(client, id);
    const reply = await this.redis.tandemAdmit(
      this.key('room', room),
      this.key('rooms'),
      this.key('server-rooms', this.serverId),
      peer,
      id,
      String(this.capacity),
      room,
      this.prefix,
    );
    if (reply === null) {
      if (this.connectionIds.get(client) === id) this.connectionIds.delete(client);
      return false;
    }
    const [previous = '', ...stale] = reply;
    const from = serverOf(previous);
    if (previous !== '' && from !== this.serverId) this.emit('takeover', { room, peer, server: from });
    if (stale.length > 0) {
      const places: StalePlace[] = [];
      for (let i = 0; i + 1 < stale.length; i += 2) {
        places.push({ room, peer: stale[i] as PeerId, server: serverOf(stale[i + 1] ?? '') });
      }
      this.emit('stale', places);
    }
    return true;
  }

  async leave(room: RoomId, peer: PeerId, client: C): Promise<boolean> {
    const id = this.connectionIds.get(client);
    if (id === undefined || this.closed) return false;
    const removed = await this.redis.tandemLeave(
      this.key('room', room),
      this.key('rooms'),
      this.key('server-rooms', this.serverId),
      peer,
      id,
      room,
      `${this.serverId}:`,
    );
    if (removed === 1) this.connectionIds.delete(client);
    return removed === 1;
  }

  async roomCount(): Promise<number> {
    return this.redis.scard(this.key('rooms'));
  }

  async members(room: RoomId): Promise<PeerId[]> {
    return (await this.redis.tandemMembers(this.key('room', room), this.prefix)) as PeerId[];
  }

  /**
   * Stops the heartbeat and deletes this server's key, so the next sweep by
   * any live server frees whatever this one still holds (as if it had
   * crashed, minus the wait). Does not close the Redis connection: its owner does.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.redis.del(this.key('server', this.serverId));
  }

  private async beat(): Promise<void> {
    const replies = await this.redis
      .multi()
      .set(this.key('server', this.serverId), String(Date.now()), 'PX', this.ttlMs, 'GET')
      .sadd(this.key('servers'), this.serverId)
      .smembers(this.key('servers'))
      .exec();
    if (this.closed || !replies) return;
    const previous = replies[0]?.[1];
    const servers = (replies[2]?.[1] ?? []) as string[];
    if (previous === null && this.admissions > 0) {
      // Our key had expired (Redis unreachable, or this process stalled past the TTL):
      // others may have purged our members, whose connections still think they are in.
      this.logger.warn({ serverId: this.serverId }, 'room registry heartbeat had lapsed; places may have been freed');
      this.emit('lapsed');
    }
    for (const server of servers) {
      if (server !== this.serverId) await this.purge(server);
    }
  }

  /** Frees the places of `server` if its heartbeat has expired; a no-op for a live one. */
  private async purge(server: string): Promise<void> {
    const freed = await this.redis.tandemPurge(
      this.key('server', server),
      this.key('server-rooms', server),
      this.key('rooms'),
      this.key('servers'),
      this.prefix,
      `${server}:`,
      server,
    );
    if (freed.length === 0) return;
    const places: StalePlace[] = [];
    for (let i = 0; i + 1 < freed.length; i += 2) {
      places.push({ room: freed[i] as RoomId, peer: freed[i + 1] as PeerId, server });
    }
    this.logger.info({ server, places: places.length }, 'freed the places of a dead server');
    this.emit('stale', places);
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }
}

function serverOf(connectionId: string): string {
  return connectionId.split(':', 1)[0] ?? '';
}
