/**
 * Packets larger than MAX_PACKET_BYTES on 500 sockets at once, against the
 * real server process: each socket is closed at the cap, and the server's
 * memory stays bounded, because nothing past a packet's fixed header is
 * buffered once the header declares too much (aedes#831 is why this matters:
 * mqtt-packet would otherwise buffer whatever length a client declares).
 */
import type WebSocket from 'ws';
import { afterEach, expect, it } from 'vitest';
import { MAX_PACKET_BYTES, clientIdFor, peerTopic, type PeerId, type RoomId } from '../../protocol/index';
import { cleanup, makeDist } from '../helpers/broker';
import { closed, controlCall, metric, mqttUrlOf, newPeerId, newRoom, openSocket, pool } from '../helpers/hostile';
import { connect, remainingLength } from '../helpers/mqtt-bytes';
import { rssBytes, startServer, type ServerProcess } from '../helpers/server';
import { waitFor } from '../helpers/wait';

const SOCKETS = 500;
const MB = 1024 * 1024;
/** The attack's own pacing: a trickle is slow by definition. Not a wait for an outcome. */
const TRICKLE_MS = 25;

let server: ServerProcess | null = null;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await server?.stop();
  server = null;
  await cleanup();
});

/** 500 sockets from 25 addresses (20 each, the per-address cap), so the limits let them all in. */
const addressOf = (i: number): string => `127.0.2.${1 + Math.floor(i / 20)}`;

async function serve(): Promise<ServerProcess> {
  server = await startServer({ DIST_DIR: await makeDist(), LOG_LEVEL: 'warn', MAX_CONNECTIONS_PER_IP: '20', CONNECT_BURST_PER_IP: '20' });
  return server;
}

interface Peer {
  ws: WebSocket;
  room: RoomId;
  peer: PeerId;
}

/** A raw WebSocket that has completed CONNECT (CONNACK 0) as `<room>.<peer>`. */
async function connected(url: string, localAddress: string): Promise<Peer> {
  const result = await openSocket(url, { localAddress });
  if (!result.ws) throw new Error(`upgrade refused: ${result.status}`);
  const ws = result.ws;
  sockets.push(ws);
  const room = newRoom();
  const peer = newPeerId();
  const connack = firstBytes(ws, 4);
  ws.send(connect(clientIdFor(room, peer)), { binary: true });
  const reply = await connack;
  if (!reply.equals(Buffer.of(0x20, 0x02, 0x00, 0x00))) throw new Error(`unexpected CONNACK ${reply.toString('hex')}`);
  return { ws, room, peer };
}

/** The first `n` bytes the server sends (Aedes writes one packet in several messages). */
function firstBytes(ws: WebSocket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onMessage = (data: Buffer): void => {
      chunks.push(data);
      const all = Buffer.concat(chunks);
      if (all.length < n) return;
      ws.off('message', onMessage);
      resolve(all.subarray(0, n));
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error('closed before the reply')));
  });
}

/** Sends `frames` one WebSocket message at a time, TRICKLE_MS apart, until the server closes; resolves with how many went out. */
async function trickle(ws: WebSocket, frames: readonly Buffer[], paceMs: number): Promise<number> {
  let sent = 0;
  for (const frame of frames) {
    if (ws.readyState !== ws.OPEN) break;
    ws.send(frame, { binary: true });
    sent += 1;
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
  }
  await closed(ws, 15_000);
  return sent;
}

async function attack(build: (p: Peer) => Buffer[], paceMs: number): Promise<{ sent: number[]; rssBefore: number; rssPeak: number; rssAfter: number }> {
  const s = server!;
  const url = mqttUrlOf(s.url);
  await controlCall(url); // warm up, so the baseline includes the code paths a call uses
  const rssBefore = await rssBytes(s.proc);
  const peers: Peer[] = [];
  await pool(Array.from({ length: SOCKETS }, (_, i) => i), 50, async (i) => {
    peers.push(await connected(url, addressOf(i)));
  });
  let rssPeak = await rssBytes(s.proc);
  const sampler = setInterval(() => {
    void rssBytes(s.proc).then((r) => (rssPeak = Math.max(rssPeak, r)), () => undefined);
  }, 100); // a sampling period for the peak, not a wait
  try {
    const sent = await Promise.all(peers.map((p) => trickle(p.ws, build(p), paceMs)));
    const rssAfter = await rssBytes(s.proc);
    return { sent, rssBefore, rssPeak: Math.max(rssPeak, rssAfter), rssAfter };
  } finally {
    clearInterval(sampler);
  }
}

it(`closes ${SOCKETS} sockets that each trickle a PUBLISH declaring 256 MB, at its header`, async () => {
  const s = await serve();
  // 0x30 + Remaining Length 268,435,455 (the MQTT maximum), then body bytes: one WebSocket message per byte.
  const header = [0x30, 0xff, 0xff, 0xff, 0x7f];
  const frames = [...header, ...Array<number>(40).fill(0x41)].map((b) => Buffer.of(b));
  const { sent, rssBefore, rssPeak } = await attack(() => frames, TRICKLE_MS);

  console.log(
    `[oversize 256MB] ${SOCKETS} sockets; RSS ${(rssBefore / MB).toFixed(0)} → peak ${(rssPeak / MB).toFixed(0)} MB; ` +
      `bytes sent before close: ${Math.min(...sent)}–${Math.max(...sent)}`,
  );
  expect(await metric(s.url, 'tandem_connections_closed_total', { reason: 'oversize' })).toBe(SOCKETS);
  // The guard refuses at the first length byte that passes the cap (the 3rd); the rest of the trickle never gets going.
  expect(Math.max(...sent)).toBeLessThan(frames.length);
  expect(rssPeak - rssBefore).toBeLessThan(100 * MB);
  await controlCall(mqttUrlOf(s.url));
  expect(s.output()).not.toMatch(/uncaught|unhandled/i);
});

/** A PUBLISH of `totalBytes` on the peer's own topic, cut into `frames` WebSocket messages. */
function splitPublish(p: Peer, totalBytes: number, frames: number): Buffer[] {
  const topic = Buffer.from(peerTopic(p.room, p.peer, 'signal'));
  const body = Buffer.concat([Buffer.of(topic.length >> 8, topic.length & 0xff), topic, Buffer.alloc(totalBytes - topic.length - 2, 0x42)]);
  const whole = Buffer.concat([Buffer.of(0x30, ...remainingLength(body.length)), body]);
  const size = Math.ceil(whole.length / frames);
  return Array.from({ length: frames }, (_, i) => whole.subarray(i * size, (i + 1) * size));
}

// 70 KiB is over the byte cap (refused at its header); 17 KiB is under it, but
// no client of ours ever splits a packet, and 100 frames of ~170 bytes is how a
// drip keeps a socket's parser buffering (refused at MAX_FRAMES_PER_PACKET).
it.each([
  { kib: 70, reason: 'oversize', cap: 'the 64 KiB cap' },
  { kib: 17, reason: 'fragmented', cap: 'MAX_FRAMES_PER_PACKET' },
])(`closes ${SOCKETS} sockets that each send a $kib KiB packet split over 100 WebSocket frames, at $cap`, async ({ kib, reason }) => {
  const s = await serve();
  expect(kib * 1024 > MAX_PACKET_BYTES).toBe(reason === 'oversize');
  // Sent as fast as the sockets take it: the caps must hold without any help from pacing.
  const { sent, rssBefore, rssPeak } = await attack((p) => splitPublish(p, kib * 1024, 100), 0);
  console.log(
    `[${reason} ${kib}KiB/100 frames] ${SOCKETS} sockets; RSS ${(rssBefore / MB).toFixed(0)} → peak ${(rssPeak / MB).toFixed(0)} MB; ` +
      `frames sent: ${Math.min(...sent)}–${Math.max(...sent)}`,
  );
  expect(await metric(s.url, 'tandem_connections_closed_total', { reason })).toBe(SOCKETS);
  expect(await metric(s.url, 'tandem_messages_relayed_total')).toBeLessThan(10); // only the warm-up call's
  expect(rssPeak - rssBefore).toBeLessThan(150 * MB);
  await controlCall(mqttUrlOf(s.url));
  expect(s.output()).not.toMatch(/uncaught|unhandled/i);
});

it(`bounds memory when ${SOCKETS} sockets each hold a packet just under the cap, never finished`, async () => {
  const s = await serve();
  // 60 frames of 1000 bytes: under the byte cap and under MAX_FRAMES_PER_PACKET (64), with the last frame withheld.
  const frames = (p: Peer): Buffer[] => {
    const topic = Buffer.from(peerTopic(p.room, p.peer, 'signal'));
    const length = 61 * 1000;
    const head = Buffer.concat([Buffer.of(0x30, ...remainingLength(length), topic.length >> 8, topic.length & 0xff), topic]);
    const all = Buffer.concat([head, Buffer.alloc(length - 2 - topic.length, 0x43)]);
    return Array.from({ length: 60 }, (_, i) => all.subarray(i * 1000, (i + 1) * 1000));
  };
  const url = mqttUrlOf(s.url);
  await controlCall(url);
  const rssBefore = await rssBytes(s.proc);
  const peers: Peer[] = [];
  await pool(Array.from({ length: SOCKETS }, (_, i) => i), 50, async (i) => {
    const p = await connected(url, addressOf(i));
    peers.push(p);
    for (const f of frames(p)) p.ws.send(f, { binary: true });
  });
  // A round trip on each socket proves the server has read everything sent before it: WebSocket pings are answered in order.
  await Promise.all(
    peers.map(async (p) => {
      const pong = waitFor(p.ws, 'pong', { timeoutMs: 15_000 });
      p.ws.ping();
      await pong;
    }),
  );
  const rssHeld = await rssBytes(s.proc);
  console.log(`[held] ${SOCKETS} × 60 KB partial packets: RSS ${(rssBefore / MB).toFixed(0)} → ${(rssHeld / MB).toFixed(0)} MB`);
  expect(peers.every((p) => p.ws.readyState === p.ws.OPEN)).toBe(true);
  // ~30 MB of payload is genuinely held; the bound is what the per-socket caps allow (2 × 64 KiB each) plus slack.
  expect(rssHeld - rssBefore).toBeLessThan(SOCKETS * 2 * MAX_PACKET_BYTES + 40 * MB);
  await controlCall(url);
});
