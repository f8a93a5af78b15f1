/**
 * Rate and count limits, as plain objects with an injected clock so they run
 * under vitest with fake time (STYLE 8). Nothing here does I/O: the callers
 * decide what a refusal looks like (an HTTP 429 before the WebSocket handshake,
 * or closing an MQTT connection).
 */

export type Clock = () => number;

/** Classic token bucket: `burst` tokens, refilled at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: Clock = Date.now,
  ) {
    this.tokens = burst;
    this.updated = now();
  }

  /** Takes `cost` tokens if there are that many; false (and takes nothing) otherwise. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Seconds until `cost` tokens are available (0 = now). */
  waitSeconds(cost = 1): number {
    this.refill();
    return this.tokens >= cost ? 0 : (cost - this.tokens) / this.ratePerSecond;
  }

  /** True once the bucket has refilled completely, i.e. it remembers nothing. */
  get full(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updated) / 1000;
    this.updated = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSecond);
  }
}

/** How often buckets that have refilled (remember nothing) are dropped. */
const KEYED_SWEEP_INTERVAL_MS = 60_000;
/** A hard bound on remembered keys between sweeps, against a flood from many addresses. */
const KEYED_MAX_KEYS = 50_000;

/**
 * A token bucket per key: `burst` at once, refilled at `perSecond` (GET /api/ice,
 * POST /api/push). Memory is bounded by recent traffic (full buckets are swept)
 * and by a hard cap on keys.
 */
export class KeyedRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: Clock,
  ) {
    this.lastSweep = now();
  }

  /** Counts one request; null = allowed, otherwise whole seconds until one would be. */
  take(key: string): number | null {
    this.maybeSweep();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      // Past the bound, forget the oldest key: it gets a fresh burst, which is cheaper than refusing everyone.
      if (this.buckets.size >= KEYED_MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value as string);
      bucket = new TokenBucket(this.perSecond, this.burst, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket.take() ? null : Math.max(1, Math.ceil(bucket.waitSeconds()));
  }

  /** Keys currently remembered (for tests: the table must not grow with history). */
  get size(): number {
    return this.buckets.size;
  }

  private maybeSweep(): void {
    if (this.now() - this.lastSweep < KEYED_SWEEP_INTERVAL_MS) return;
    this.lastSweep = this.now();
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
  }
}

/**
 * Per-address limits. They are a backstop against one abuser, not the first
 * line: behind carrier-grade NAT thousands of phones share one IPv4 address
 * (as do offices, schools and hotels), so the defaults (config.ts) are sized
 * for a NAT pool, hundreds of concurrent connections. A cap of 20 and a
 * flapping ban per address locked such users out (issue 11).
 */
export interface IpLimits {
  /** Open WebSocket connections per address. */
  maxConnections: number;
  /** New connections per address: sustained rate (per second) and burst. */
  connectRate: number;
  connectBurst: number;
}

/** Flapping is judged per MQTT clientId (one person's connection), as EMQX's flapping detection does. */
export interface FlapLimits {
  /** This many closes of one clientId's connections within `flapWindowMs` earns it a ban of `banMs`. */
  flapMax: number;
  flapWindowMs: number;
  banMs: number;
}

export type IpRefusal = 'ip-connections' | 'ip-rate';

export type IpVerdict = { ok: true } | { ok: false; reason: IpRefusal; retryAfterSeconds: number | null };

interface Entry {
  open: number;
  bucket: TokenBucket;
}

/** How often idle entries are dropped, so the table is bounded by recent traffic, not by history. */
const SWEEP_INTERVAL_MS = 60_000;

/** Per-address admission: a cap on open connections and a token bucket on new ones. */
export class IpLimiter {
  private readonly entries = new Map<string, Entry>();
  private lastSweep: number;

  constructor(
    private readonly limits: IpLimits,
    private readonly now: Clock = Date.now,
  ) {
    this.lastSweep = now();
  }

  /** Decides on a new connection from `key`; when ok, it has taken a token, and the caller must call `opened`. */
  admit(key: string): IpVerdict {
    this.maybeSweep();
    const entry = this.entries.get(key);
    if (entry && entry.open >= this.limits.maxConnections) return { ok: false, reason: 'ip-connections', retryAfterSeconds: null };
    const bucket = entry?.bucket ?? new TokenBucket(this.limits.connectRate, this.limits.connectBurst, this.now);
    if (!bucket.take()) return { ok: false, reason: 'ip-rate', retryAfterSeconds: Math.max(1, Math.ceil(bucket.waitSeconds())) };
    if (!entry) this.entries.set(key, { open: 0, bucket });
    return { ok: true };
  }

  opened(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.open += 1;
    else this.entries.set(key, { open: 1, bucket: new TokenBucket(this.limits.connectRate, this.limits.connectBurst, this.now) });
  }

  closed(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.open = Math.max(0, entry.open - 1);
  }

  /** Open connections counted for `key`. */
  openCount(key: string): number {
    return this.entries.get(key)?.open ?? 0;
  }

  /** Addresses currently tracked (for tests: the table must not grow with history). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops entries that remember nothing any more: no connection and a full bucket. */
  sweep(): void {
    this.lastSweep = this.now();
    for (const [key, entry] of this.entries) if (entry.open === 0 && entry.bucket.full) this.entries.delete(key);
  }

  private maybeSweep(): void {
    if (this.now() - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep();
  }
}

interface FlapEntry {
  /** When the last `flapMax` connections closed, oldest first. */
  closes: number[];
  bannedUntil: number;
}

/**
 * A temporary ban for one identity that connects and drops over and over (a
 * broken client or an attack; either way it should back off). Keyed by MQTT
 * clientId, so the people behind one NAT address don't share a ban; only
 * authenticated connections count, so nobody can get someone else banned.
 */
export class FlapDetector {
  private readonly entries = new Map<string, FlapEntry>();
  private lastSweep: number;

  constructor(
    private readonly limits: FlapLimits,
    private readonly now: Clock = Date.now,
    private readonly onBan: (id: string) => void = () => {},
  ) {
    this.lastSweep = now();
  }

  /** Whole seconds until `id` may connect again, or null when it is not banned. */
  bannedFor(id: string): number | null {
    this.maybeSweep();
    const until = this.entries.get(id)?.bannedUntil ?? 0;
    const now = this.now();
    return until > now ? Math.ceil((until - now) / 1000) : null;
  }

  /** One connection of `id` has closed. */
  closed(id: string): void {
    const now = this.now();
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { closes: [], bannedUntil: 0 };
      this.entries.set(id, entry);
    }
    entry.closes.push(now);
    if (entry.closes.length > this.limits.flapMax) entry.closes.shift();
    const oldest = entry.closes[0]!;
    if (entry.closes.length >= this.limits.flapMax && now - oldest <= this.limits.flapWindowMs && entry.bannedUntil <= now) {
      entry.bannedUntil = now + this.limits.banMs;
      entry.closes = [];
      this.onBan(id);
    }
  }

  /** Identities currently tracked (for tests: the table must not grow with history). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops entries with no ban and no close inside the window. */
  sweep(): void {
    const now = this.now();
    this.lastSweep = now;
    for (const [id, entry] of this.entries) {
      const lastClose = entry.closes[entry.closes.length - 1] ?? -Infinity;
      if (entry.bannedUntil <= now && now - lastClose > this.limits.flapWindowMs) this.entries.delete(id);
    }
  }

  private maybeSweep(): void {
    if (this.now() - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep();
  }
}

/** Every limit the server enforces besides packet size and the CONNECT deadline (config.ts reads them from the environment). */
export interface ServerLimits {
  ip: IpLimits;
  flap: FlapLimits;
  /** Open WebSocket connections on this process; past it, upgrades get 503 (memory, not fairness). */
  maxConnections: number;
  /** MQTT packets a connection may send: sustained per second, and burst. */
  msgRate: number;
  msgBurst: number;
  /** WebSocket frames one MQTT packet may span (messages, or fragments of one message). */
  maxFramesPerPacket: number;
  /** Bytes waiting to be sent to a client beyond which it counts as frozen and is closed. */
  outboundBufferBytes: number;
  /** Aedes `drainTimeout`: the longest a delivery waits for a client's socket to drain (ms). */
  drainTimeoutMs: number;
  /** MQTT keepalive is clamped into this range (seconds); 0 (= none) becomes the maximum. */
  keepaliveMinSeconds: number;
  keepaliveMaxSeconds: number;
}
