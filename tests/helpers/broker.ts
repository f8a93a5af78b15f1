/**
 * Broker tests run the real server in-process on an ephemeral port, with a
 * temporary DIST_DIR, and talk to it with real mqtt.js clients over
 * ws://…/mqtt. Everything started here is tracked and torn down by
 * `cleanup()`, which each test file registers with `afterEach(cleanup)`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { Aedes } from 'aedes';
import {
  MAX_PACKET_BYTES,
  ROOM_ID_BYTES,
  clientIdFor,
  peerTopic,
  randomBase64Url,
  roomFilters,
  type PeerId,
  type RoomId,
} from '../../protocol/index';
import { loadConfig, type Config } from '../../broker/config';
import type { ServerLimits } from '../../broker/limits';
import type { CloseReason } from '../../broker/metrics';
import { startServer, type RunningServer } from '../../broker/server';
import { TEST_CLIENT, connack } from './mqtt-client';
import { credentials, newPeerId } from './peers';
import { TEST_METRICS_TOKEN } from './server';
import { waitFor } from './wait';

export const INDEX_HTML = '<!doctype html><title>Tandem test</title><div id="app"></div>';

export interface TestServer extends RunningServer {
  /** ws://host:port/mqtt */
  mqttUrl: string;
  /** The temporary DIST_DIR. */
  dist: string;
}

const servers = new Set<TestServer>();
const clients = new Set<MqttClient>();
const sockets = new Set<WebSocket>();
const dirs = new Set<string>();

/** A temp dir with a tiny built app: index.html, one fingerprinted asset, sw.js, a manifest. */
export async function makeDist(options: { withIndex?: boolean } = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tandem-broker-'));
  dirs.add(root);
  const dist = join(root, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  if (options.withIndex !== false) await writeFile(join(dist, 'index.html'), INDEX_HTML);
  // Long and repetitive so gzip has something to win.
  await writeFile(join(dist, 'assets', 'x.js'), `export const x = ${JSON.stringify('tandem '.repeat(500))};\n`);
  await writeFile(join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {});\n');
  await writeFile(join(dist, 'manifest.webmanifest'), JSON.stringify({ name: 'Tandem' }));
  // Outside dist/: what a path traversal would try to reach.
  await writeFile(join(root, 'secret.txt'), 'TOP-SECRET');
  return dist;
}

/**
 * The production limits, except per address: every test client connects from
 * 127.0.0.1, so a file of tests would look like one flapping host.
 * tests/hardening checks the per-address limits with their real values.
 */
export const TEST_LIMITS: ServerLimits = (() => {
  const limits = loadConfig({}).limits;
  return { ...limits, ip: { maxConnections: 1e6, connectRate: 1e6, connectBurst: 1e6 }, flap: { ...limits.flap, flapMax: 1e6 } };
})();

export { TEST_METRICS_TOKEN };

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const dist = overrides.distDir ?? (await makeDist());
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    distDir: dist,
    logLevel: 'silent',
    brokerUrl: null,
    maxPacketBytes: MAX_PACKET_BYTES,
    connectTimeoutMs: 5000,
    limits: TEST_LIMITS,
    allowedOrigins: [],
    trustedProxies: [],
    ice: { stunUrls: [], turn: null, rateLimitPerMinute: 30 },
    tls: null,
    httpRedirectPort: null,
    redisUrl: null,
    serverTtlMs: 15_000,
    metricsToken: TEST_METRICS_TOKEN,
    logHashKey: null,
    // No VAPID keys: POST /api/push answers 503 here; tests/broker/push.test.ts runs the real process.
    push: loadConfig({}).push,
    ...overrides,
  };
  // TEST_LOG_LEVEL=debug shows the broker's own log lines when a test needs explaining.
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const running = await startServer(config, { logger });
  const server: TestServer = { ...running, dist, mqttUrl: `${running.url.replace(/^http/, 'ws')}/mqtt` };
  servers.add(server);
  return server;
}

export const newRoomId = (): RoomId => randomBase64Url(ROOM_ID_BYTES) as RoomId;
export { newPeerId };

/** Connects as `<room>.<peer>` like the app does; never reconnects on its own. */
export async function connectPeer(
  server: TestServer,
  room: RoomId,
  peer: PeerId,
  options: IClientOptions = {},
): Promise<MqttClient> {
  return connectRaw(server, { clientId: clientIdFor(room, peer), ...credentials(room, peer), ...options });
}

/** Connects with any options (e.g. a clientId that does not parse). Rejects if CONNACK refuses. */
export async function connectRaw(server: TestServer, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(server.mqttUrl, { ...TEST_CLIENT, ...options });
  clients.add(client);
  await connack(client);
  return client;
}

/** Connects and subscribes to the room's two filters, as the app does; returns the granted QoS per filter. */
export async function joinRoom(
  server: TestServer,
  room: RoomId,
  peer: PeerId,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; granted: number[] }> {
  const client = await connectPeer(server, room, peer, options);
  return { client, granted: await subscribeGranted(client, roomFilters(room)) };
}

/**
 * SUBSCRIBE and return the SUBACK's return code per filter (128 = refused).
 * mqtt.js 5 rejects subscribeAsync when any code is 128, with the SUBACK on
 * the error (`ErrorWithSubackPacket.packet`), so the codes are read from there.
 */
export async function subscribeGranted(client: MqttClient, filters: string | string[], qos: 0 | 1 = 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: unknown } }).packet?.granted;
    if (!Array.isArray(granted)) throw err;
    return granted as number[];
  }
}

/**
 * SUBSCRIBE to a filter the broker refuses: it closes the connection at the
 * first foreign filter, without a SUBACK (issue 11, "filter flood"). Resolves
 * with the SUBACK codes if one came anyway (a test failure), else with null
 * once the connection has closed.
 */
export async function subscribeRefused(client: MqttClient, filters: string | string[]): Promise<number[] | null> {
  const closed = waitFor(client, 'close').then(() => null);
  const acked = client.subscribeAsync(filters, { qos: 1 }).then(
    (granted) => granted.map((g) => g.qos),
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? null,
  );
  return Promise.race([closed, acked.then((codes) => (codes === null ? closed : codes))]);
}

/** Joins and fails the test unless both filters were granted. */
export async function admitted(server: TestServer, room: RoomId, peer: PeerId, options: IClientOptions = {}): Promise<MqttClient> {
  const { client, granted } = await joinRoom(server, room, peer, options);
  if (granted.some((q) => q === 128)) throw new Error(`peer ${peer} was not admitted: granted ${granted.join(',')}`);
  return client;
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

/** Records every message a client receives from now on. */
export function recordMessages(client: MqttClient): Received[] {
  const seen: Received[] = [];
  client.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }));
  return seen;
}

const BARRIER = '__barrier__';
let barriers = 0;

/**
 * Publishes a marker on the client's own signal topic and waits until the
 * broker delivers it back. Anything the broker was going to deliver to this
 * client before that point has been delivered by then, so a test can assert
 * that something did *not* arrive without sleeping.
 */
export async function barrier(client: MqttClient, room: RoomId, peer: PeerId): Promise<void> {
  const marker = `${BARRIER}${++barriers}`;
  const arrived = waitFor<[string, Buffer]>(client, 'message', { filter: (_t, payload) => payload.toString() === marker });
  await client.publishAsync(peerTopic(room, peer, 'signal'), marker, { qos: 1 });
  await arrived;
}

export const withoutBarriers = (seen: Received[]): Received[] => seen.filter((m) => !m.payload.startsWith(BARRIER));

/**
 * Resolves once the broker has published (and, if retained, stored: Aedes
 * emits 'publish' after storing) a message on `topic`. A PUBACK alone does not
 * mean that: Aedes acknowledges QoS 1 before it publishes. Call it before
 * causing the publish.
 */
export async function published(
  server: TestServer,
  topic: string,
  /** `by`: the publishing clientId, or 'broker' for the broker's own publishes. */
  match: { empty?: boolean; retain?: boolean; by?: string } = {},
): Promise<void> {
  await waitFor<[{ topic: string; payload: Buffer | string; retain: boolean }, { id: string } | null]>(server.broker, 'publish', {
    filter: (p, client) =>
      p.topic === topic &&
      (match.empty === undefined || (p.payload.length === 0) === match.empty) &&
      (match.retain === undefined || p.retain === match.retain) &&
      (match.by === undefined || (match.by === 'broker' ? client === null : client?.id === match.by)),
  });
}

/** Resolves once an empty retained message on the peer's presence topic is stored, whoever sent it. */
export function presenceCleared(server: TestServer, room: RoomId, peer: PeerId, by?: string): Promise<void> {
  return published(server, peerTopic(room, peer, 'presence'), { empty: true, retain: true, ...(by === undefined ? {} : { by }) });
}

/** Topics of the retained messages the broker holds that match `pattern`, read from its persistence. */
export async function retainedTopics(broker: Aedes, pattern: string): Promise<string[]> {
  const persistence = (broker as unknown as { persistence: { createRetainedStream(p: string): AsyncIterable<{ topic: string }> } })
    .persistence;
  const topics: string[] = [];
  for await (const packet of persistence.createRetainedStream(pattern)) topics.push(packet.topic);
  return topics;
}

/** A plain WebSocket to /mqtt, for sending bytes no MQTT client would. */
export async function rawSocket(server: TestServer): Promise<WebSocket> {
  const ws = new WebSocket(server.mqttUrl, 'mqtt');
  sockets.add(ws);
  ws.on('error', () => {});
  await waitFor(ws, 'open');
  return ws;
}

/** Resolves with the reason of the next /mqtt connection the server closes. */
export function nextClose(server: TestServer): Promise<CloseReason> {
  return waitFor<[CloseReason]>(server.connections, 'closed').then(([reason]) => reason);
}

/** Reads one sample from /metrics, e.g. `metricValue(s, 'tandem_refused_total', { reason: 'room-full' })`. */
export async function metricValue(server: TestServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await server.metrics.text();
  const labelText = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const series = labelText ? `${name}{${labelText}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`metric ${series} not found`);
  return Number(line.slice(series.length + 1));
}

export async function cleanup(): Promise<void> {
  await Promise.all([...clients].map((c) => c.endAsync(true).catch(() => {})));
  clients.clear();
  for (const ws of sockets) ws.terminate();
  sockets.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
  await Promise.all([...dirs].map((d) => rm(d, { recursive: true, force: true })));
  dirs.clear();
}
