/**
 * The smallest STUN server (RFC 5389 Binding only), so ICE in a test never
 * asks a public server: werift with no STUN URL falls back to Google's and
 * waits 5 s for an answer that can't come here.
 */
import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';

const MAGIC = 0x2112a442;

export interface Stun {
  url: string;
  close(): Promise<void>;
}

export async function startStun(): Promise<Stun> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, from) => {
    // A Binding request: type 0x0001, the magic cookie, a 12-byte transaction id.
    if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== MAGIC || !isIPv4(from.address)) return;
    const attr = Buffer.alloc(12);
    attr.writeUInt16BE(0x0020, 0); // XOR-MAPPED-ADDRESS
    attr.writeUInt16BE(8, 2);
    attr.writeUInt16BE(0x01, 4); // IPv4
    attr.writeUInt16BE(from.port ^ (MAGIC >>> 16), 6);
    const ip = from.address.split('.').reduce((n, o) => (n << 8) | Number(o), 0) >>> 0;
    attr.writeUInt32BE((ip ^ MAGIC) >>> 0, 8);
    const head = Buffer.alloc(20);
    head.writeUInt16BE(0x0101, 0); // Binding success
    head.writeUInt16BE(attr.length, 2);
    msg.copy(head, 4, 4, 20);
    socket.send(Buffer.concat([head, attr]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
  return {
    url: `stun:127.0.0.1:${socket.address().port}`,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
