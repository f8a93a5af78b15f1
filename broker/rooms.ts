/**
 * Who is in which room. A room holds at most ROOM_CAPACITY peers; a peer is
 * held by exactly one connection at a time.
 *
 * The interface is asynchronous although the in-memory registry is not:
 * with several brokers behind a load balancer the registry moves to Redis
 * (rooms-redis.ts, chosen by REDIS_URL in cluster.ts), and the hooks do not
 * change shape when it does. The hot path (every
 * PUBLISH) never asks the registry; it reads the admission the connection
 * was given once, at SUBSCRIBE.
 */
import { ROOM_CAPACITY, type PeerId, type RoomId } from '../protocol/index';

/** `C` is whatever identifies one connection: the Aedes client object here, a connection id in Redis. */
export interface RoomRegistry<C> {
  /**
   * Admits `peer` into `room` on `client`. True when the peer is already a
   * member (a reconnect or client-id takeover: the new connection replaces the
   * old one) or the room has a free place; false when the room is full.
   */
  admit(room: RoomId, peer: PeerId, client: C): Promise<boolean>;
  /**
   * Removes `peer` from `room` only if `client` is still the connection that
   * holds it, so the late disconnect of a replaced connection cannot evict the
   * connection that replaced it. True when the peer was removed.
   */
  leave(room: RoomId, peer: PeerId, client: C): Promise<boolean>;
  /** Rooms with at least one member. */
  roomCount(): Promise<number>;
  members(room: RoomId): Promise<PeerId[]>;
}

export class MemoryRoomRegistry<C> implements RoomRegistry<C> {
  private readonly rooms = new Map<RoomId, Map<PeerId, C>>();

  constructor(private readonly capacity: number = ROOM_CAPACITY) {}

  async admit(room: RoomId, peer: PeerId, client: C): Promise<boolean> {
    let members = this.rooms.get(room);
    if (!members) {
      members = new Map();
      this.rooms.set(room, members);
    }
    if (!members.has(peer) && members.size >= this.capacity) return false;
    members.set(peer, client);
    return true;
  }

  async leave(room: RoomId, peer: PeerId, client: C): Promise<boolean> {
    const members = this.rooms.get(room);
    if (!members || members.get(peer) !== client) return false;
    members.delete(peer);
    // Empty rooms are dropped so the map is bounded by live connections, not by history.
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }

  async roomCount(): Promise<number> {
    return this.rooms.size;
  }

  async members(room: RoomId): Promise<PeerId[]> {
    return [...(this.rooms.get(room)?.keys() ?? [])];
  }
}
