/**
 * Per-connection limits, in-process (tests/helpers/broker.ts) so each can be
 * set low and the close reason read directly: message rate, frames per
 * packet, WebSocket fragments and TCP reads per frame, keepalive clamping,
 * and the client id cap.
 */
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { MAX_CLIENT_ID_CHARS, MAX_PACKET_BYTES, clientIdFor, peerTopic } from '../../protocol/index';
import {
  TEST_LIMITS,
  admitted,
  cleanup,
  connectPeer,
  connectRaw,
  metricValue,
  newPeerId,
  newRoomId,
  nextClose,
  rawSocket,
  startTestServer,
  type TestServer,
} from '../helpers/broker';
import { PINGREQ, connect } from '../helpers/mqtt-bytes';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

const limits = (patch: Partial<typeof TEST_LIMITS>) => ({ limits: { ...TEST_LIMITS, ...patch } });

it('closes a client that sends more packets than MSG_BURST at once, and counts it', async () => {
  const server = await startTestServer(limits({ msgRate: 20, msgBurst: 50 }));
  const ws = await rawSocket(server);
  const closedFor = nextClose(server);
  // CONNECT and 60 PINGREQs in one WebSocket message: 61 packets against a burst of 50.
  ws.send(Buffer.concat([connect(clientIdFor(newRoomId(), newPeerId())), ...Array<Buffer>(60).fill(PINGREQ)]), { binary: true });
  expect(await closedFor).toBe('rate-limit');
  expect(await metricValue(server, 'tandem_connections_closed_total', { reason: 'rate-limit' })).toBe(1);
});

it('lets a signaling burst through: 50 candidates and their acks under the default limits', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await admitted(server, room, a);
  const bob = await admitted(server, room, b);
  let received = 0;
  const all = new Promise<void>((resolve) => bob.on('message', () => ++received === 50 && resolve()));
  await Promise.all(Array.from({ length: 50 }, (_, i) => alice.publishAsync(peerTopic(room, a, 'signal'), `candidate ${i}`, { qos: 1 })));
  await all;
  expect(alice.connected && bob.connected).toBe(true);
});

it('closes a client that streams more WebSocket messages than the frame budget allows', async () => {
  const server = await startTestServer(limits({ msgRate: 1, msgBurst: 2 }));
  const ws = await rawSocket(server);
  const closedFor = nextClose(server);
  // The frame budget is 8 × the packet budget (16 here); one CONNECT spread over 17 messages spends it.
  const packet = connect(clientIdFor(newRoomId(), newPeerId()));
  for (let i = 0; i < 17; i += 1) ws.send(packet.subarray(i, i + 1), { binary: true });
  expect(await closedFor).toBe('rate-limit');
});

it('closes a packet spread over more than MAX_FRAMES_PER_PACKET WebSocket messages', async () => {
  const server = await startTestServer(limits({ maxFramesPerPacket: 8 }));
  const ws = await rawSocket(server);
  const closedFor = nextClose(server);
  const packet = connect(clientIdFor(newRoomId(), newPeerId()));
  for (let i = 0; i < 9; i += 1) ws.send(packet.subarray(i, i + 1), { binary: true });
  expect(await closedFor).toBe('fragmented');
});

/** A WebSocket handshake by hand, so the test controls every byte and every TCP write after it. */
async function handshake(server: TestServer): Promise<Socket> {
  const { hostname, port } = new URL(server.url);
  const socket = tcpConnect({ host: hostname, port: Number(port) });
  socket.setNoDelay(true);
  await waitFor(socket, 'connect');
  const reply = waitFor<[Buffer]>(socket, 'data');
  socket.write(
    `GET /mqtt HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`,
  );
  const [head] = await reply;
  expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

/** One client-to-server frame header [RFC 6455 §5.2], masked with a zero key so the payload goes as is. */
const frameHeader = (opcode: number, fin: boolean, length: number): Buffer =>
  length < 126
    ? Buffer.of((fin ? 0x80 : 0) | opcode, 0x80 | length, 0, 0, 0, 0)
    : Buffer.of((fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff, 0, 0, 0, 0);

it('refuses a WebSocket message in more fragments than MAX_FRAMES_PER_PACKET (browsers never fragment)', async () => {
  const server = await startTestServer(limits({ maxFramesPerPacket: 8 }));
  const socket = await handshake(server);
  const closedFor = nextClose(server);
  // A binary frame without FIN, then continuation frames of one byte each.
  socket.write(Buffer.concat([frameHeader(0x2, false, 1), Buffer.of(0x10)]));
  for (let i = 0; i < 10; i += 1) socket.write(Buffer.concat([frameHeader(0x0, false, 1), Buffer.of(0)]));
  expect(await closedFor).toBe('fragmented');
  socket.destroy();
});

it('refuses a frame trickled one byte per TCP segment once ws holds 1024 reads for it', async () => {
  const server = await startTestServer();
  const socket = await handshake(server);
  const closedFor = nextClose(server);
  let refused = false;
  void closedFor.then(() => (refused = true));
  socket.write(frameHeader(0x2, true, 30_000));
  let sent = 0;
  // Each byte is its own write, a millisecond apart, so the server reads them one at a time: the attack's pacing.
  while (!refused && sent < 30_000) {
    socket.write(Buffer.of(0x30));
    sent += 1;
    await new Promise((r) => setTimeout(r, 1));
  }
  expect(await closedFor).toBe('fragmented');
  // Some writes coalesce into one read, so it takes somewhat more than 1024 bytes, but nowhere near the frame's 30,000.
  expect(sent).toBeGreaterThan(1000);
  expect(sent).toBeLessThan(10_000);
  socket.destroy();
});

it.each([
  ['0 (no keepalive)', 0],
  ['3600 s', 3600],
])('clamps a keepalive of %s to KEEPALIVE_MAX_S, so a silent client is still reaped', async (_what, keepalive) => {
  const server = await startTestServer(limits({ keepaliveMinSeconds: 1, keepaliveMaxSeconds: 1 }));
  const closedFor = nextClose(server);
  const started = Date.now();
  const client = await connectPeer(server, newRoomId(), newPeerId(), { keepalive });
  const clientClosed = waitFor(client, 'close');
  // mqtt.js sends nothing with keepalive 0 or 3600 here; the broker reaps it after 1.5 × 1 s [MQTT-3.1.2-24].
  expect(await closedFor).toBe('keepalive');
  expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  expect(Date.now() - started).toBeLessThan(5000);
  await clientClosed;
});

it('does not clamp the keepalive the app asks for (10 s)', async () => {
  const server = await startTestServer();
  const seen = waitFor<[{ _keepaliveInterval: number }]>(server.broker, 'clientReady');
  await connectPeer(server, newRoomId(), newPeerId(), { keepalive: 10 });
  const [client] = await seen;
  expect(client._keepaliveInterval).toBe(10 * 1500 + 1);
});

it('raises a keepalive below KEEPALIVE_MIN_S to the minimum, so a chatty client cannot make the broker time it every second', async () => {
  const server = await startTestServer(limits({ keepaliveMinSeconds: 5, keepaliveMaxSeconds: 120 }));
  const seen = waitFor<[{ _keepaliveInterval: number }]>(server.broker, 'clientReady');
  await connectPeer(server, newRoomId(), newPeerId(), { keepalive: 1 });
  const [client] = await seen;
  expect(client._keepaliveInterval).toBe(5 * 1500 + 1);
});

it(`refuses a clientId longer than ${MAX_CLIENT_ID_CHARS} characters with CONNACK 2`, async () => {
  const server = await startTestServer();
  const clientId = `${clientIdFor(newRoomId(), newPeerId())}${'x'.repeat(MAX_CLIENT_ID_CHARS)}`;
  await expect(connectRaw(server, { clientId })).rejects.toMatchObject({ code: 2 });
  expect(await metricValue(server, 'tandem_refused_total', { reason: 'client-id' })).toBe(1);
});

it('never negotiates per-message deflate, even when the client offers it (ciphertext does not compress; inflate amplifies memory)', async () => {
  const server = await startTestServer();
  const ws = await rawSocket(server); // ws clients offer permessage-deflate by default
  expect(ws.extensions).toBe('');
});

it('closes a single WebSocket frame over MAX_PACKET_BYTES with 1009 before buffering it (ws maxPayload)', async () => {
  const server = await startTestServer();
  const ws = await rawSocket(server);
  const closedFor = waitFor<[number, Buffer]>(ws, 'close');
  ws.send(Buffer.alloc(MAX_PACKET_BYTES + 1024, 0x30), { binary: true });
  const [code] = await closedFor;
  expect(code).toBe(1009); // "message too big" [RFC 6455 §7.4.1]
});
