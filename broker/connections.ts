/**
 * The glue between a WebSocket on `/mqtt` and Aedes: a packet-size guard in
 * front of `broker.handle`, a deadline for CONNECT, per-connection rate
 * limits in both directions, and one place that knows why each connection
 * ended (for metrics and logs).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Aedes, Client } from 'aedes';
import { type RawData, type WebSocket } from 'ws';
import { MAX_TOPIC_CHARS, TOPIC_KINDS } from '../protocol/index';
import type { Admission, UpgradeGate } from './gate';
import { RefusedError } from './hooks';
import { TokenBucket, type ServerLimits } from './limits';
import type { Logger } from './log';
import type { LogBudget } from './log-budget';
import type { CloseReason, Metrics } from './metrics';
import { MqttPacketGuard } from './packet-guard';
import { createMqttWebSocketStream } from './ws-stream';

export interface ConnectionsDeps {
  broker: Aedes;
  metrics: Metrics;
  logger: Logger;
  maxPacketBytes: number;
  connectTimeoutMs: number;
  limits: Pick<ServerLimits, 'msgRate' | 'msgBurst' | 'maxFramesPerPacket' | 'outboundBufferBytes'>;
  /** Counts each connection against its address (the gate admitted it before the handshake). */
  gate: UpgradeGate;
  /** Shared by every line a hostile client can cause, so no client can turn into a log flood. */
  logBudget: LogBudget;
}

export interface ConnectionEvents {
  /** A WebSocket on /mqtt has closed, for the given reason. */
  closed: [reason: CloseReason];
}

/**
 * WebSocket messages allowed per MQTT packet in the frame budget. mqtt.js in
 * Node writes a PUBLISH as up to ~6 messages (header, topic, id, payload);
 * browsers send one. The frame budget exists so a client can't make the
 * server handle a million 1-byte messages a second while completing few packets.
 */
const FRAMES_PER_PACKET_ALLOWANCE = 8;

/**
 * Acks a client may send, as a multiple of the packet budget. An honest
 * client acks each QoS 1 delivery: its peer's messages (limited by the peer's
 * own packet budget) and the echoes of its own (limited by its own), so twice
 * the budget never refuses one, while 16,384 PUBRELs in one message are
 * refused at the first (issue 11, "ack flood").
 */
const ACKS_PER_PACKET_ALLOWANCE = 2;

/**
 * The longest SUBSCRIBE the protocol needs: a packet id, then the room's
 * filters (protocol/topics.ts `roomFilters`, one per topic kind), each a
 * 2-byte length, at most MAX_TOPIC_CHARS of ASCII and a QoS byte. Anything
 * longer carries filters no member needs, and is refused from its header.
 */
export const MAX_SUBSCRIBE_BYTES = 2 + TOPIC_KINDS.length * (2 + MAX_TOPIC_CHARS + 1);

interface Connection {
  ws: WebSocket;
  stream: Duplex;
  admission: Admission;
  /** The first reason recorded wins: later ones are consequences of it. */
  reason: CloseReason | null;
}

export class Connections extends EventEmitter<ConnectionEvents> {
  private readonly open = new Set<Connection>();
  private readonly byClient = new WeakMap<Client, Connection>();

  constructor(private readonly deps: ConnectionsDeps) {
    super();
    const { broker } = deps;
    broker.on('keepaliveTimeout', (client) => this.note(client, 'keepalive'));
    broker.on('clientError', (client, err) => this.onAedesError(client, err));
    broker.on('connectionError', (client, err) => this.onAedesError(client, err));
  }

  get size(): number {
    return this.open.size;
  }

  accept(ws: WebSocket, req: IncomingMessage): void {
    const { limits } = this.deps;
    const guard = new MqttPacketGuard(this.deps.maxPacketBytes, limits.maxFramesPerPacket, MAX_SUBSCRIBE_BYTES);
    const packets = new TokenBucket(limits.msgRate, limits.msgBurst);
    const acks = new TokenBucket(limits.msgRate * ACKS_PER_PACKET_ALLOWANCE, limits.msgBurst * ACKS_PER_PACKET_ALLOWANCE);
    const frames = new TokenBucket(limits.msgRate * FRAMES_PER_PACKET_ALLOWANCE, limits.msgBurst * FRAMES_PER_PACKET_ALLOWANCE);
    // Listeners run in registration order, so this one judges each message
    // before createWebSocketStream's listener hands it to Aedes; once the
    // stream is destroyed, that listener's push() is a no-op.
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (conn.reason) return;
      if (!frames.take()) return this.drop(conn, 'rate-limit');
      const before = guard.packets;
      const acksBefore = guard.acks;
      // [MQTT-6.0.0-1]: MQTT travels in binary frames; a text frame means the peer is not an MQTT client.
      const verdict = isBinary ? pushAll(guard, data) : 'text-frame';
      if (verdict) return this.drop(conn, verdict);
      // Judged before Aedes sees a byte of this message: a refused one costs it nothing.
      const started = guard.packets - before;
      const acked = guard.acks - acksBefore;
      if ((started > 0 && !packets.take(started)) || (acked > 0 && !acks.take(acked))) this.drop(conn, 'rate-limit');
    });
    ws.on('error', (err: Error & { code?: string }) => this.record(conn, wsErrorReason(err.code)));

    // The writable side buffers up to outboundBufferBytes of not-yet-sent
    // packets; see `watchOutbound`.
    const stream = createMqttWebSocketStream(ws, { writableHighWaterMark: limits.outboundBufferBytes });
    const conn: Connection = { ws, stream, admission: this.deps.gate.opened(req), reason: null };
    this.open.add(conn);
    this.watchOutbound(conn);
    const client = this.deps.broker.handle(stream, req);
    this.byClient.set(client, conn);
    this.deps.logger.debug({ remote: conn.admission.address }, 'mqtt connection opened');

    // Aedes's own connectTimeout stops once CONNECT *arrives*; this one
    // waits for CONNACK, so a client stuck in authentication is dropped too.
    const deadline = setTimeout(() => {
      if (!client.connected) this.drop(conn, 'connect-timeout');
    }, this.deps.connectTimeoutMs);

    ws.once('close', () => {
      clearTimeout(deadline);
      this.open.delete(conn);
      this.deps.gate.closed(conn.admission);
      const reason = conn.reason ?? 'normal';
      this.deps.metrics.connectionClosed(reason);
      this.emit('closed', reason);
    });
  }

  /** Closes every connection now (server shutdown) and resolves once all have closed. */
  async closeAll(): Promise<void> {
    const closing = [...this.open].map((conn) => {
      this.record(conn, 'shutdown');
      if (conn.ws.readyState === conn.ws.CLOSED) return Promise.resolve();
      const closed = new Promise<void>((resolve) => conn.ws.once('close', () => resolve()));
      conn.ws.terminate();
      return closed;
    });
    await Promise.all(closing);
  }

  /**
   * A client that stops reading its socket (frozen tab, hostile peer) fills
   * the kernel's buffers, then ours. Aedes then waits for 'drain' while
   * holding one of its publish pipeline's slots (mqemitter concurrency), and
   * enough of those stall delivery to everyone until `drainTimeout`. So the
   * moment our buffer is full, the client is dropped instead: nobody waits.
   */
  private watchOutbound(conn: Connection): void {
    const { stream } = conn;
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((...args: unknown[]): boolean => {
      const ok = write(...args);
      // Deferred: Aedes registers its drain callback right after this returns,
      // and the destroy that follows is what releases it (client.js `close`).
      if (!ok && !conn.reason) setImmediate(() => this.drop(conn, 'slow-consumer'));
      return ok;
    }) as Duplex['write'];
  }

  private drop(conn: Connection, reason: CloseReason): void {
    if (conn.reason === null) {
      const suppressed = this.deps.logBudget.take();
      if (suppressed !== null) this.deps.logger.info({ reason, remote: conn.admission.address, suppressed }, 'closing mqtt connection');
    }
    this.record(conn, reason);
    // Destroying the stream terminates the socket (ws lib/stream.js `_destroy`) and makes Aedes clean up.
    conn.stream.destroy();
  }

  private record(conn: Connection, reason: CloseReason): void {
    conn.reason ??= reason;
  }

  private note(client: Client, reason: CloseReason): void {
    const conn = this.byClient.get(client);
    if (conn) this.record(conn, reason);
  }

  private onAedesError(client: Client, err: Error): void {
    const refused = err instanceof RefusedError;
    this.note(client, refused ? 'refused' : 'protocol-error');
    // Only the message: Aedes attaches the offending packet to some errors (`err.info`).
    const fields = { clientId: client.id ?? undefined, error: err.message };
    if (refused) {
      this.deps.logger.debug(fields, 'connection closed after a refused packet');
      return;
    }
    const suppressed = this.deps.logBudget.take();
    if (suppressed !== null) this.deps.logger.info({ ...fields, suppressed }, 'mqtt client error');
  }
}

/** ws reports its own limits as errors before closing with 1009/1008. */
function wsErrorReason(code: string | undefined): CloseReason {
  switch (code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return 'oversize';
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 'fragmented';
    default:
      return 'protocol-error';
  }
}

function pushAll(guard: MqttPacketGuard, data: RawData): ReturnType<MqttPacketGuard['push']> {
  if (Array.isArray(data)) {
    for (const part of data) {
      const verdict = guard.push(part);
      if (verdict) return verdict;
    }
    return null;
  }
  return guard.push(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}
