/**
 * Bytes no well-behaved client sends: oversized packets, garbage, broken
 * headers, silence. Each costs the sender its connection, and nobody else
 * notices: the server keeps serving other rooms.
 */
import { afterEach, expect, it } from 'vitest';
import { MAX_PACKET_BYTES, peerTopic } from '../../protocol/index';
import {
  admitted,
  cleanup,
  metricValue,
  newPeerId,
  newRoomId,
  nextClose,
  rawSocket,
  startTestServer,
  type TestServer,
} from '../helpers/broker';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

/** A bystander in its own room proves the server is still up: it gets its own message back. */
async function bystanderStillWorks(server: TestServer): Promise<void> {
  const room = newRoomId();
  const peer = newPeerId();
  const client = await admitted(server, room, peer);
  const echo = waitFor<[string, Buffer]>(client, 'message');
  await client.publishAsync(peerTopic(room, peer, 'signal'), 'still here', { qos: 1 });
  expect((await echo)[1].toString()).toBe('still here');
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(200);
}

it('closes a client that publishes a packet over the cap, while another room carries on', async () => {
  const server = await startTestServer();
  const otherRoom = newRoomId();
  const otherPeer = newPeerId();
  const other = await admitted(server, otherRoom, otherPeer);

  const room = newRoomId();
  const peer = newPeerId();
  const big = await admitted(server, room, peer);
  const closedFor = nextClose(server);
  big.publish(peerTopic(room, peer, 'signal'), Buffer.alloc(MAX_PACKET_BYTES + 1), { qos: 0 });
  await waitFor(big, 'close');
  expect(await closedFor).toBe('oversize');

  const echo = waitFor<[string, Buffer]>(other, 'message');
  await other.publishAsync(peerTopic(otherRoom, otherPeer, 'signal'), 'unaffected', { qos: 1 });
  expect((await echo)[1].toString()).toBe('unaffected');
});

it('refuses a payload over MAX_PAYLOAD_BYTES even when the packet is under the cap', async () => {
  const server = await startTestServer();
  const room = newRoomId();
  const peer = newPeerId();
  const client = await admitted(server, room, peer);
  const closedFor = nextClose(server);
  client.publish(peerTopic(room, peer, 'signal'), Buffer.alloc(MAX_PACKET_BYTES / 2 + 1), { qos: 0 });
  await waitFor(client, 'close');
  expect(await closedFor).toBe('refused');
  expect(await metricValue(server, 'tandem_refused_total', { reason: 'payload-size' })).toBe(1);
});

const hostileBytes: Array<[string, number[], string]> = [
  // CONNECT (0x10) with 4 body bytes that are not a protocol name: mqtt-packet's parser fails.
  ['garbage after a CONNECT header', [0x10, 0x04, 0xde, 0xad, 0xbe, 0xef], 'protocol-error'],
  ['a reserved packet type', [0xf0, 0x00], 'malformed'],
  ['a PUBLISH header declaring 256 MB', [0x30, 0xff, 0xff, 0xff, 0x7f], 'oversize'],
  ['a Remaining Length with a fifth byte', [0x30, 0x80, 0x80, 0x80, 0x80, 0x01], 'malformed'],
  // [MQTT-6.0.0-1]: MQTT over WebSocket is binary frames only.
  ['a text frame', [], 'text-frame'],
];

it.each(hostileBytes)('closes a raw socket that sends %s, and keeps serving', async (_what, bytes, reason) => {
  const server = await startTestServer();
  const ws = await rawSocket(server);
  const closedFor = nextClose(server);
  const closed = waitFor(ws, 'close');
  if (reason === 'text-frame') ws.send('hello', { binary: false });
  else ws.send(Buffer.from(bytes), { binary: true });
  expect(await closedFor).toBe(reason);
  await closed;
  await bystanderStillWorks(server);
});

it('judges a header split across WebSocket messages', async () => {
  const server = await startTestServer();
  const ws = await rawSocket(server);
  const closedFor = nextClose(server);
  // 0x30 0xff 0xff 0x7f = PUBLISH of 2 MiB, one byte per message.
  for (const byte of [0x30, 0xff, 0xff, 0x7f]) ws.send(Buffer.of(byte), { binary: true });
  expect(await closedFor).toBe('oversize');
});

it('closes a socket that never sends CONNECT once CONNECT_TIMEOUT_MS has passed', async () => {
  const server = await startTestServer({ connectTimeoutMs: 150 });
  const opened = Date.now();
  const ws = await rawSocket(server);
  const closedFor = nextClose(server);
  await waitFor(ws, 'close');
  expect(await closedFor).toBe('connect-timeout');
  expect(Date.now() - opened).toBeGreaterThanOrEqual(140);
  expect(await metricValue(server, 'tandem_connections_closed_total', { reason: 'connect-timeout' })).toBe(1);
});

it('does not time out a client that completed CONNECT', async () => {
  const server = await startTestServer({ connectTimeoutMs: 150 });
  const room = newRoomId();
  const peer = newPeerId();
  const client = await admitted(server, room, peer);
  // A silent socket opened after the client connected: when its deadline fires, the client's has passed too.
  const silent = await rawSocket(server);
  const closedFor = nextClose(server);
  await waitFor(silent, 'close');
  expect(await closedFor).toBe('connect-timeout');

  expect(client.connected).toBe(true);
  const echo = waitFor<[string, Buffer]>(client, 'message');
  await client.publishAsync(peerTopic(room, peer, 'signal'), 'alive', { qos: 1 });
  expect((await echo)[1].toString()).toBe('alive');
});
