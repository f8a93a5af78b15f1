/**
 * A raw MQTT client over one WebSocket, for hardening tests that send bytes
 * no library would (16,384 PUBRELs in one message, 5,000 filters in one
 * SUBSCRIBE) and still need to read the server's answers: CONNACK codes,
 * SUBACKs, PINGRESP round trips. Incoming packets are split by their fixed
 * header [MQTT-2.2], whatever the WebSocket framing.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { PINGREQ, connect } from './mqtt-bytes';
import { openSocket, type SocketOptions } from './hostile';

export interface RawPacket {
  /** The packet type, 1..14 [MQTT-2.2.1] (2 = CONNACK, 7 = PUBCOMP, 9 = SUBACK, 13 = PINGRESP). */
  type: number;
  body: Buffer;
}

interface Events {
  packet: [RawPacket];
}

export const CONNACK = 2;
export const PUBCOMP = 7;
export const SUBACK = 9;
export const PINGRESP = 13;

export class RawMqtt extends EventEmitter<Events> {
  /** Packets received so far, by type. */
  readonly counts = new Map<number, number>();
  private pending: Buffer = Buffer.alloc(0);

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data: Buffer) => this.feed(data));
  }

  /** Opens a socket (throws on a refused upgrade) without sending anything. */
  static async open(mqttUrl: string, options: SocketOptions = {}): Promise<RawMqtt> {
    const result = await openSocket(mqttUrl, options);
    if (!result.ws) throw new Error(`upgrade refused with HTTP ${result.status}`);
    return new RawMqtt(result.ws);
  }

  /** Opens a socket, sends CONNECT for `clientId` (with the helper's credentials) and resolves with the CONNACK return code. */
  static async connected(mqttUrl: string, clientId: string, options: SocketOptions = {}): Promise<RawMqtt> {
    const client = await RawMqtt.open(mqttUrl, options);
    const code = await client.connect(connect(clientId));
    if (code !== 0) throw new Error(`CONNACK ${code}`);
    return client;
  }

  get closed(): boolean {
    return this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING;
  }

  /** Sends a CONNECT packet; resolves with the CONNACK return code, or null if the server closed instead. */
  async connect(packet: Buffer): Promise<number | null> {
    const answer = this.next(CONNACK);
    this.send(packet);
    const connack = await answer;
    return connack ? connack.body[1]! : null;
  }

  /** Resolves with the next packet of `type`, or null once the socket has closed without one. */
  next(type: number, timeoutMs = 30_000): Promise<RawPacket | null> {
    return new Promise((resolve, reject) => {
      const onPacket = (p: RawPacket): void => {
        if (p.type === type) done(p);
      };
      const onClose = (): void => done(null);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no packet of type ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('packet', onPacket);
        this.ws.off('close', onClose);
      };
      const done = (p: RawPacket | null): void => {
        cleanup();
        resolve(p);
      };
      if (this.ws.readyState === WebSocket.CLOSED) return done(null);
      this.on('packet', onPacket);
      this.ws.on('close', onClose);
    });
  }

  /** One PINGREQ → PINGRESP round trip in ms; null if the socket closed first. */
  async ping(timeoutMs = 30_000): Promise<number | null> {
    const t0 = performance.now();
    const answer = this.next(PINGRESP, timeoutMs);
    this.send(PINGREQ);
    return (await answer) ? performance.now() - t0 : null;
  }

  send(data: Buffer): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary: true });
  }

  /** Resolves once the socket has closed. */
  whenClosed(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  terminate(): void {
    this.ws.terminate();
  }

  private feed(data: Buffer): void {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    for (;;) {
      const header = readHeader(this.pending);
      if (!header || this.pending.length < header.start + header.length) return;
      const type = this.pending[0]! >> 4;
      const body = this.pending.subarray(header.start, header.start + header.length);
      this.pending = this.pending.subarray(header.start + header.length);
      this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
      this.emit('packet', { type, body });
    }
  }
}

/** Remaining Length [MQTT-2.2.3] and where the body starts; null while incomplete. */
function readHeader(buf: Buffer): { length: number; start: number } | null {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i < Math.min(buf.length, 5); i += 1) {
    const byte = buf[i]!;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { length, start: i + 1 };
    multiplier *= 128;
  }
  return null;
}

/** Percentile of `samples` (nearest rank), e.g. percentile(rtts, 99). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
