/** The messages between a benchmark (parent) and its load generator processes (bench/lib/loadgen.ts), over fork()'s IPC channel. */

export interface LoadConfig {
  /** Broker URLs (ws://…). Room r's first peer connects to urls[r % n], its second to urls[(r + 1) % n]: with two URLs, every room spans both. */
  urls: string[];
  rooms: number;
  /** Rooms joining at the same time (the rest wait their turn). */
  concurrency: number;
  qos: 0 | 1;
  /** Size of the SDP in the offer and answer (characters, before sealing). */
  sdpChars: number;
  /** ICE candidates each peer sends during the join. */
  candidates: number;
  /** Source addresses to spread connections over (e.g. 127.0.0.2…); empty = the OS's choice. */
  localAddresses: string[];
}

export type ToGenerator =
  | { type: 'prepare'; config: LoadConfig }
  | { type: 'join' }
  | { type: 'pingpong'; durationMs: number; warmupMs: number }
  | { type: 'close' };

export interface CpuUse {
  /** CPU time this process used during the phase (user + system), ms. */
  cpuMs: number;
  wallMs: number;
}

export interface JoinReport extends CpuUse {
  joined: number;
  failed: number;
  /** The first few failure messages. */
  errors: string[];
  /** Per room: first CONNECT to the last candidate received by both peers, ms. */
  latencies: number[];
}

export interface PingReport extends CpuUse {
  /** Round trips completed inside the measured window (after warm-up). */
  roundTrips: number;
  /** Length of the measured window, ms. */
  windowMs: number;
  latencies: number[];
}

export type FromGenerator =
  | { type: 'prepared'; ms: number }
  | { type: 'joined'; report: JoinReport }
  | { type: 'pinged'; report: PingReport }
  | { type: 'closed' }
  | { type: 'failed'; message: string };
