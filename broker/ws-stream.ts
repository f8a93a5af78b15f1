/**
 * The stream Aedes reads and writes for one WebSocket: ws's
 * createWebSocketStream, plus `_writev`, so that what Aedes writes in one go
 * leaves in one WebSocket frame.
 *
 * Why: Aedes writes each packet with mqtt-packet's writeToStream, which
 * issues 4–5 `write()` calls per PUBLISH (header, length, topic, message id,
 * payload) inside `cork()` … `uncork()` on the next tick. A Writable without
 * `_writev` flushes corked chunks one `_write` at a time, and
 * createWebSocketStream's `_write` is `ws.send`: one frame, and one `writev`
 * syscall, per chunk. Under the broker benchmark that was the largest single
 * cost in the profile (about a quarter of the broker's CPU in `writev`).
 * With `_writev` the corked chunks (often several packets: a PUBACK and the
 * next PUBLISH) go out as one binary frame, which MQTT over WebSocket allows:
 * "a single WebSocket data frame can contain multiple or partial MQTT
 * Control Packets" (MQTT 3.1.1 §6.0).
 */
import type { Duplex, DuplexOptions } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';

interface Chunk {
  chunk: Buffer | string;
  encoding: BufferEncoding;
}

type WritevDuplex = Duplex & {
  _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void;
  _writev(chunks: Chunk[], callback: (err?: Error | null) => void): void;
};

export function createMqttWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  const stream = createWebSocketStream(ws, options) as WritevDuplex;
  stream._writev = (chunks, callback) => {
    const buffers = chunks.map(({ chunk, encoding }) => (typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk));
    // 'buffer' is what Writable itself passes for Buffer chunks (Node's types list only string encodings).
    stream._write(buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers), 'buffer' as BufferEncoding, callback);
  };
  return stream;
}
