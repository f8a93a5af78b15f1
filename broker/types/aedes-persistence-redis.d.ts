/**
 * aedes-persistence-redis 11.x ships no types. Only what broker/cluster.ts
 * uses is declared: the default factory (ENVIRONMENT.md: importing
 * asyncPersistence.js directly crashes on the first SUBSCRIBE) and the
 * callback-style methods Aedes itself calls on it.
 */
declare module 'aedes-persistence-redis' {
  import type { Redis, RedisOptions } from 'ioredis';

  export interface AedesPersistenceRedisOptions extends RedisOptions {
    /** An existing connection; the persistence disconnects it on destroy(). */
    conn?: Redis;
    maxSessionDelivery?: number;
  }

  export interface AedesPersistenceRedis {
    delWill(client: { id: string; brokerId: string }): Promise<unknown>;
    /** Without a callback it returns a promise (and with one it may wait forever for a "ready" that Aedes 1.x never causes). */
    destroy(): Promise<void>;
  }

  export default function aedesPersistenceRedis(options?: AedesPersistenceRedisOptions): AedesPersistenceRedis;
}
