/**
 * What turns one server process into a member of a cluster (REDIS_URL set):
 * Aedes's pub/sub and persistence move to Redis (mqemitter-redis,
 * aedes-persistence-redis), so live messages, retained presence and Wills
 * cross processes, and the room registry moves there too (rooms-redis.ts),
 * so the capacity of a room holds across processes.
 *
 *   const cluster = await openCluster({ url, logger });
 *   const broker = await Aedes.createBroker({ ...cluster.brokerOptions, ...hooks });
 *   cluster.attach(broker);
 *   …
 *   await cluster.close();   // after broker.close()
 *
 * The process's id is both the Aedes broker id and the registry's server id,
 * so a place in the registry and a Will in the persistence name the same
 * process. That is what lets this module tidy up after a dead process:
 *
 *   - `stale` (a dead process's places were freed): publish the empty
 *     retained presence its Wills would have, and delete those Wills. Aedes
 *     would publish them too, but only after 3–4 heartbeats (minutes), and
 *     without asking whether the peer has come back meanwhile: a late Will
 *     would wipe the presence (and offer) of the reconnected peer.
 *   - `takeover` (a peer reconnected here while its old place was held by
 *     another process): delete the Will it left there, for the same reason.
 *   - `lapsed` (our own heartbeat had expired, so others may have freed our
 *     places): close every connection here, so each client reconnects and is
 *     admitted again (or refused if its room filled up meanwhile).
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Aedes, AedesOptions } from 'aedes';
import aedesPersistenceRedis, { type AedesPersistenceRedis } from 'aedes-persistence-redis';
import { Redis } from 'ioredis';
import MQEmitterRedis from 'mqemitter-redis';
import { clientIdFor, peerTopic } from '../protocol/index';
import type { Logger } from './log';
import { type RetainedMethods, RedisRetainedStore, indexRetainedByRoom } from './retained';
import { RedisRoomRegistry, type StalePlace } from './rooms-redis';

export interface ClusterOptions {
  /** redis:// or rediss:// */
  url: string;
  logger: Logger;
  /** How long this process counts as alive after its last heartbeat (ms). */
  serverTtlMs?: number;
}

export interface Cluster {
  serverId: string;
  registry: RedisRoomRegistry<object>;
  /** For Aedes.createBroker: the broker id, Redis pub/sub and Redis persistence. */
  brokerOptions: Pick<AedesOptions, 'id' | 'mq' | 'persistence'>;
  /** Wires the registry's clean-up events to the broker. Call once, right after creating it. */
  attach(broker: Aedes): void;
  /** Leaves the cluster and closes every Redis connection. Call after broker.close(). Idempotent. */
  close(): Promise<void>;
}

export async function openCluster(options: ClusterOptions): Promise<Cluster> {
  const { url, logger } = options;
  // No ':' in it: Aedes's will keys and our connection ids split on ':'.
  const serverId = randomUUID();
  const redis = new Redis(url, { lazyConnect: true });
  // ioredis reconnects on its own; without a listener each failure would be an uncaught 'error'.
  redis.on('error', (err) => logger.error({ err }, 'redis (room registry) error'));
  await redis.connect();

  const mq = MQEmitterRedis({ connectionString: url });
  // mqemitter-redis reports connection errors on `state` (not typed); unheard, an 'error' event throws.
  (mq as unknown as { state: EventEmitter }).state.on('error', (err: Error) => logger.error({ err }, 'redis (pub/sub) error'));
  const persistenceConn = new Redis(url);
  persistenceConn.on('error', (err) => logger.error({ err }, 'redis (persistence) error'));
  const persistence: AedesPersistenceRedis = aedesPersistenceRedis({ conn: persistenceConn });
  // Retained messages in one hash per room instead of one hash scanned per SUBSCRIBE (retained.ts).
  indexRetainedByRoom(persistence as unknown as RetainedMethods, new RedisRetainedStore(redis));
  const registry = new RedisRoomRegistry<object>({ redis, serverId, logger, ttlMs: options.serverTtlMs });

  let broker: Aedes | null = null;
  const dropWill = (place: StalePlace): void => {
    persistence.delWill({ id: clientIdFor(place.room, place.peer), brokerId: place.server }).catch((err: unknown) => {
      logger.warn({ err, server: place.server }, 'could not delete the Will of a dead connection');
    });
  };
  registry.on('takeover', dropWill);
  // Our places may have been given away: every client here reconnects (the app
  // does so at once, media keeps flowing) and takes its place again, or hears
  // that the room is full. Capacity is never exceeded for longer than a beat.
  registry.on('lapsed', () => {
    if (!broker || broker.closed) return;
    const clients = Object.values((broker as unknown as { clients: Record<string, { close(): void }> }).clients);
    logger.warn({ clients: clients.length }, 'closing every connection so each takes its place again');
    for (const client of clients) client.close();
  });
  registry.on('stale', (places) => {
    for (const place of places) {
      dropWill(place);
      if (!broker || broker.closed) continue;
      // QoS 1 and retained, like the app's own Will and hooks.ts `release`.
      broker.publish(
        { cmd: 'publish', topic: peerTopic(place.room, place.peer, 'presence'), payload: Buffer.alloc(0), qos: 1, retain: true, dup: false },
        (err) => {
          if (err) logger.warn({ err }, 'could not clear the presence of a dead connection');
        },
      );
    }
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await registry.close().catch((err: unknown) => logger.warn({ err }, 'could not leave the room registry'));
      await persistence.destroy().catch(() => {});
      await new Promise<void>((resolve) => mq.close(() => resolve()));
      await redis.quit().catch(() => {});
    })();
    return closing;
  };

  try {
    await registry.start();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    serverId,
    registry,
    brokerOptions: { id: serverId, mq, persistence },
    attach(b) {
      broker = b;
    },
    close,
  };
}
