/**
 * Clients for the hardening tests against the real server process: raw
 * WebSockets from a chosen loopback address (all of 127.0.0.0/8 is local on
 * Linux, so each address is a different "client IP"), a legitimate two-peer
 * control call, /metrics readings, and a poll for conditions that have no
 * event (a process's memory).
 */
import { randomBytes } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import {
  ROOM_ID_BYTES,
  peerTopic,
  randomBase64Url,
  roomFilters,
  type PeerId,
  type RoomId,
} from '../../protocol/index';
import { appClientOptions, connack } from './mqtt-client';
import { newPeerId } from './peers';
import { metricsHeaders } from './server';
import { waitFor } from './wait';

export const newRoom = (): RoomId => randomBase64Url(ROOM_ID_BYTES) as RoomId;
export { newPeerId };

export const mqttUrlOf = (httpUrl: string): string => `${httpUrl.replace(/^http/, 'ws')}/mqtt`;

export interface SocketOptions {
  localAddress?: string;
  origin?: string;
  headers?: Record<string, string>;
}

export type UpgradeResult = { ws: WebSocket; status: 101 } | { ws: null; status: number; retryAfter: string | undefined };

/** Opens a WebSocket to /mqtt; resolves with it, or with the HTTP status of a refused upgrade. */
export function openSocket(mqttUrl: string, options: SocketOptions = {}): Promise<UpgradeResult> {
  const headers = { ...options.headers };
  const ws = new WebSocket(mqttUrl, 'mqtt', {
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    headers,
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, status: 101 }));
    ws.once('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      resolve({ ws: null, status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined });
      res.resume();
      req.destroy();
    });
    ws.once('error', (err) => {
      if (ws.readyState !== WebSocket.OPEN) reject(err);
    });
  });
}

/**
 * The cheapest possible upgrade attempt, for floods: a hand-written HTTP
 * request on a bare TCP socket, resolved with the status code of the answer;
 * the socket is then destroyed (for a 101: connected, then gone at once).
 * The ws library would spend more CPU in the test than the server spends refusing.
 */
export function upgradeAttempt(httpUrl: string, localAddress?: string): Promise<number> {
  const { hostname, port } = new URL(httpUrl);
  const request =
    `GET /mqtt HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: hostname, port: Number(port), ...(localAddress === undefined ? {} : { localAddress }) });
    let head = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      head += chunk;
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before a status line: ${JSON.stringify(head.slice(0, 40))}`)));
  });
}

/** Resolves when `ws` has closed (at once if it already has). */
export function closed(ws: WebSocket, timeoutMs = 10_000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return waitFor(ws, 'close', { timeoutMs }).then(() => undefined);
}

export interface PeerOptions {
  localAddress?: string;
  keepalive?: number;
}

/** An mqtt.js client as the app uses it (clientId `<room>.<peer>`, MQTT 3.1.1, no reconnect). */
export async function connectMqtt(mqttUrl: string, room: RoomId, peer: PeerId, options: PeerOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(mqttUrl, {
    ...appClientOptions(room, peer),
    keepalive: options.keepalive ?? 10,
    ...(options.localAddress === undefined ? {} : { wsOptions: { localAddress: options.localAddress } }),
  });
  try {
    await connack(client, peer);
  } catch (err) {
    client.end(true);
    throw err;
  }
  return client;
}

/** A peer as the app enters a room: connected, subscribed to the room's filters, retained presence published. */
export async function joinWithPresence(mqttUrl: string, room: RoomId, peer: PeerId, options: PeerOptions = {}): Promise<MqttClient> {
  const client = await connectMqtt(mqttUrl, room, peer, options);
  await client.subscribeAsync(roomFilters(room), { qos: 1 });
  await client.publishAsync(peerTopic(room, peer, 'presence'), 'here', { qos: 1, retain: true });
  return client;
}

const messageOn = (client: MqttClient, topic: string, payload: string, timeoutMs: number): Promise<unknown> =>
  waitFor<[string, Buffer]>(client, 'message', { timeoutMs, filter: (t, p) => t === topic && p.toString() === payload });

/**
 * The app's join sequence between two fresh peers in a fresh room: A connects,
 * subscribes, publishes retained presence; B connects, subscribes and gets it;
 * each then receives the other's signal. Resolves with the elapsed ms.
 */
export async function controlCall(mqttUrl: string, options: { localAddress?: string; timeoutMs?: number } = {}): Promise<number> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 5000;
  const room = newRoom();
  const [a, b] = [newPeerId(), newPeerId()];
  const peerOptions = options.localAddress === undefined ? {} : { localAddress: options.localAddress };
  const clients: MqttClient[] = [];
  try {
    const alice = await connectMqtt(mqttUrl, room, a, peerOptions);
    clients.push(alice);
    await alice.subscribeAsync(roomFilters(room), { qos: 1 });
    // Her own presence coming back means the broker has stored it (Aedes stores, then delivers).
    const stored = messageOn(alice, peerTopic(room, a, 'presence'), 'here', timeoutMs);
    await alice.publishAsync(peerTopic(room, a, 'presence'), 'here', { qos: 1, retain: true });
    await stored;

    const bob = await connectMqtt(mqttUrl, room, b, peerOptions);
    clients.push(bob);
    const presence = messageOn(bob, peerTopic(room, a, 'presence'), 'here', timeoutMs);
    await bob.subscribeAsync(roomFilters(room), { qos: 1 });
    await presence;

    const toAlice = messageOn(alice, peerTopic(room, b, 'signal'), 'answer', timeoutMs);
    await bob.publishAsync(peerTopic(room, b, 'signal'), 'answer', { qos: 1 });
    await toAlice;
    const toBob = messageOn(bob, peerTopic(room, a, 'signal'), 'candidate', timeoutMs);
    await alice.publishAsync(peerTopic(room, a, 'signal'), 'candidate', { qos: 1 });
    await toBob;
    return performance.now() - started;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  }
}

/** One sample from the server's /metrics, e.g. `metric(url, 'tandem_connections_closed_total', { reason: 'oversize' })`. */
export async function metric(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`, { headers: metricsHeaders })).text();
  const labelText = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const series = labelText ? `${name}{${labelText}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`metric ${series} not found`);
  return Number(line.slice(series.length + 1));
}

/**
 * Re-checks `condition` every `intervalMs` until it holds. Only for states
 * that emit no event (memory, a counter in another process); the interval is
 * a polling period, not a guess at how long something takes.
 */
export async function pollUntil(
  condition: () => Promise<boolean>,
  { intervalMs = 100, timeoutMs = 10_000, what = 'condition' }: { intervalMs?: number; timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Sent frames a server answers to before we proceed: send, then `ws.close()`, then await 'close'. */
export async function sendAndClose(ws: WebSocket, frames: readonly Buffer[]): Promise<void> {
  for (const f of frames) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(f, { binary: true });
  }
  if (ws.readyState === WebSocket.OPEN) ws.close();
  await closed(ws);
}
