/**
 * One http.Server for everything the app needs from its origin:
 *
 *   GET /healthz      200 "ok" while the broker is up (503 while closing)
 *   GET /config.json  { brokerUrl, iceServers, vapidPublicKey }: where the app should connect (null = this origin's /mqtt),
 *                     STUN servers, the key to subscribe to Web Push with (null = push disabled)
 *   GET /api/ice      STUN + a short-lived TURN credential, for a client in a call (ice.ts)
 *   POST /api/push    relays one end-to-end sealed push to a push service (push.ts)
 *   POST /api/inbox   publishes one sealed inbox message for a service worker (inbox-relay.ts)
 *   GET /api/room     how many others are in a call, before the camera opens (room-status.ts)
 *   GET /metrics      Prometheus text format, only with `Authorization: Bearer <METRICS_TOKEN>` (404 without METRICS_TOKEN)
 *   WS  /mqtt         MQTT 3.1.1 over WebSocket into the embedded Aedes broker
 *   GET anything else the built app (static.ts)
 *
 * With TLS_CERT/TLS_KEY it is an https.Server (so /mqtt is wss://), plus an
 * optional plain-HTTP redirect listener on HTTP_REDIRECT_PORT (http-redirect.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer } from 'ws';
import { MAX_TOPIC_LEVELS } from '../protocol/index';
import { AdmissionWaits } from './admission';
import { openCluster } from './cluster';
import type { Config } from './config';
import { Connections } from './connections';
import { UpgradeGate } from './gate';
import { SecurityHeaders } from './headers';
import { BrokerPolicy } from './hooks';
import { startRedirectServer, type RedirectServer } from './http-redirect';
import { IceEndpoint, publicIceServers } from './ice';
import { clientAddress, proxyTrust } from './ip';
import { PushRelay } from './push';
import { InboxPolicy } from './inbox';
import { InboxRelay } from './inbox-relay';
import { RoomStatusEndpoint } from './room-status';
import { createLogger, type Logger } from './log';
import { LogBudget } from './log-budget';
import { Metrics } from './metrics';
import { memoryPersistence } from './retained';
import { MemoryRoomRegistry, type RoomRegistry } from './rooms';
import { StaticFiles, plain } from './static';

export interface ServerOptions {
  logger?: Logger;
  /** Defaults to an in-memory registry; a shared one is needed once several brokers run. */
  registry?: RoomRegistry<Client>;
}

export interface RunningServer {
  /** http(s)://host:port, with the port actually bound (config.port may be 0). */
  url: string;
  port: number;
  /** The plain-HTTP redirect listener's bound port; null without HTTP_REDIRECT_PORT. */
  redirectPort: number | null;
  broker: Aedes;
  metrics: Metrics;
  connections: Connections;
  /** Closes every socket, the broker and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel, undefined, config.logHashKey ?? undefined);
  // REDIS_URL: pub/sub, retained messages, Wills and rooms live in Redis, shared with the other processes.
  const cluster = config.redisUrl ? await openCluster({ url: config.redisUrl, logger, serverTtlMs: config.serverTtlMs }) : null;
  const registry = options.registry ?? cluster?.registry ?? new MemoryRoomRegistry<Client>();
  const metrics = new Metrics();
  const { limits } = config;
  const logBudget = new LogBudget();
  const inbox = new InboxPolicy();
  // GET /api/ice?wait=1 answers the moment the room admits its caller (admission.ts).
  const admissions = new AdmissionWaits();
  const policy = new BrokerPolicy({
    onAdmitted: (clientId) => admissions.admitted(clientId),
    inbox,
    registry,
    metrics,
    logger,
    keepalive: { minSeconds: limits.keepaliveMinSeconds, maxSeconds: limits.keepaliveMaxSeconds },
    flap: limits.flap,
    logBudget,
  });

  const broker = await Aedes.createBroker({
    // Pub/sub and persistence: Redis in a cluster, else memory with retained messages indexed by room (retained.ts).
    ...(cluster?.brokerOptions ?? { persistence: memoryPersistence() }),
    ...policy.hooks,
    maxTopicLevels: MAX_TOPIC_LEVELS,
    // Backstop for a subscriber that stops reading: connections.ts drops it
    // sooner, as soon as OUTBOUND_BUFFER_BYTES are waiting for it.
    drainTimeout: limits.drainTimeoutMs,
  }).catch(
    async (err: unknown) => {
      await cluster?.close();
      throw err;
    },
  );
  policy.attach(broker);
  cluster?.attach(broker);
  // Aedes emits 'error' for persistence failures; an EventEmitter without an
  // 'error' listener throws, which would take every call down with it.
  (broker as EventEmitter).on('error', (err: Error) => logger.error({ err }, 'broker error'));
  metrics.observe({ clients: () => broker.connectedClients, rooms: () => registry.roomCount(), admissionWaits: () => admissions.size });

  const trust = proxyTrust(config.trustedProxies);
  const gate = new UpgradeGate({
    allowedOrigins: config.allowedOrigins,
    trust,
    limits: limits.ip,
    maxConnections: limits.maxConnections,
    metrics,
    logger,
  });
  const connections = new Connections({
    broker,
    metrics,
    logger,
    maxPacketBytes: config.maxPacketBytes,
    connectTimeoutMs: config.connectTimeoutMs,
    limits,
    gate,
    logBudget,
  });
  const files = new StaticFiles(config.distDir);
  const securityHeaders = new SecurityHeaders({ brokerUrl: config.brokerUrl, secure: config.tls !== null, trust });
  const ice = new IceEndpoint({
    ice: config.ice,
    metrics,
    logger,
    admittedUpgrade: (clientId) => policy.admittedUpgrade(clientId),
    connectedUpgrade: (clientId) => policy.connectedUpgrade(clientId),
    clientAddress: (req) => clientAddress(req, trust),
    admissions,
  });
  // With config.push.vapid null (an embedder that skipped withVapidKeys), /api/push answers 503.
  const push = new PushRelay({ push: config.push, metrics, logger, clientAddress: (req) => clientAddress(req, trust) });
  const inboxRelay = new InboxRelay({ broker, inbox, logger, clientAddress: (req) => clientAddress(req, trust), external: config.brokerUrl !== null });
  const roomStatus = new RoomStatusEndpoint({ members: (room) => registry.members(room), clientAddress: (req) => clientAddress(req, trust), external: config.brokerUrl !== null });
  let ready = false;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Before routing, so every answer carries them, errors and 404s included.
    securityHeaders.apply(req, res);
    route(req, res).catch((err: unknown) => {
      // The path only: a query can carry a clientId or worse (GET /api/ice?…).
      logger.error({ err, path: (req.url ?? '').split('?', 1)[0] }, 'request failed');
      if (!res.headersSent) plain(res, 500, 'Internal server error');
      else res.destroy();
    });
  };
  // Slow-loris: a socket that trickles its request headers is closed on the same
  // deadline as one that never sends MQTT CONNECT (Node's default is 60 s, checked
  // every 30 s). Every request here is a small GET, so 30 s for the whole of it.
  const httpOptions = {
    headersTimeout: config.connectTimeoutMs,
    requestTimeout: Math.max(30_000, config.connectTimeoutMs),
    connectionsCheckingInterval: Math.min(1000, config.connectTimeoutMs),
  };
  const server: Server = config.tls ? createHttpsServer({ ...httpOptions, cert: config.tls.cert, key: config.tls.key }, handle) : createServer(httpOptions, handle);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The raw path, not `new URL(...)`: URL parsing would resolve `..` and
    // treat `//host/x` as another host before static.ts gets to refuse them.
    const target = req.url ?? '/';
    const pathname = target.split('?', 1)[0] ?? '/';
    if (!pathname.startsWith('/')) return plain(res, 400, 'Bad request');

    const isRead = req.method === 'GET' || req.method === 'HEAD';
    switch (pathname) {
      case '/healthz':
        if (!isRead) return plain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
        return ready ? plain(res, 200, 'ok') : plain(res, 503, 'not ready');
      case '/config.json': {
        if (!isRead) return plain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
        // STUN only: TURN credentials go to clients in a call, through /api/ice.
        const body = JSON.stringify({
          brokerUrl: config.brokerUrl,
          iceServers: publicIceServers(config.ice),
          // TURN is configured, so "Relay only" can work (issue 16: without one it broke every call).
          relay: config.ice.turn !== null,
          vapidPublicKey: push.publicKey,
        });
        res.writeHead(200, {
          'Content-Type': 'application/json; charset=utf-8',
          'Cache-Control': 'no-store',
          'Content-Length': String(Buffer.byteLength(body)),
        });
        res.end(body);
        return;
      }
      case '/metrics': {
        // Not public (issue 11): it tells a stranger how busy the server is and what it refuses.
        if (config.metricsToken === null) return plain(res, 404, 'Not found');
        if (!isRead) return plain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
        if (!bearerMatches(req, config.metricsToken)) {
          return plain(res, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer realm="metrics"' });
        }
        const body = await metrics.text();
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(body);
        return;
      }
      case '/api/ice':
        return ice.serve(req, res, target);
      case '/api/push':
        return push.serve(req, res);
      case '/api/inbox':
        return inboxRelay.serve(req, res);
      case '/api/room':
        return roomStatus.serve(req, res, target);
      case '/mqtt':
        // Reached only by plain HTTP: WebSocket upgrades to /mqtt never get here.
        return plain(res, 426, 'This endpoint speaks MQTT over WebSocket', { Upgrade: 'websocket' });
      default:
        return files.serve(req, res, pathname);
    }
  }

  // perMessageDeflate off: the payloads are ciphertext (incompressible), and
  // inflate is a classic memory-amplification target. The gate refuses
  // foreign origins and over-limit addresses before the handshake (gate.ts).
  // maxFragments/maxBufferedChunks bound how many Buffers ws holds for one
  // message: browsers never fragment, and a frame trickled one byte per TCP
  // segment would otherwise pin one allocation per byte.
  const wss = new WebSocketServer({
    server,
    path: '/mqtt',
    perMessageDeflate: false,
    maxPayload: config.maxPacketBytes,
    maxFragments: limits.maxFramesPerPacket,
    maxBufferedChunks: MAX_BUFFERED_CHUNKS,
    verifyClient: gate.verifyClient,
  });
  wss.on('connection', (ws, req) => connections.accept(ws, req));
  // ws re-emits the http server's errors here; without a listener they would throw.
  wss.on('error', (err) => logger.error({ err }, 'websocket server error'));

  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await cluster?.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  let redirect: RedirectServer | null = null;
  if (config.httpRedirectPort !== null) {
    try {
      redirect = await startRedirectServer({ host: config.host, port: config.httpRedirectPort, httpsPort: port, logger });
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await cluster?.close();
      throw err;
    }
  }
  ready = true;
  const scheme = config.tls ? 'https' : 'http';
  const url = `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ready = false;
      push.close();
      const redirectClosed = redirect?.close();
      wss.close();
      await connections.closeAll();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await cluster?.close();
      await new Promise<void>((resolve) => {
        // The callback's only possible error is "not running", which is what we want anyway.
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await redirectClosed;
    })();
    return closing;
  };

  return { url, port, redirectPort: redirect?.port ?? null, broker, metrics, connections, close };
}

/**
 * TCP reads ws may hold while a frame is incomplete. A 64 KiB frame arrives in
 * ~45 full-size segments; 1024 leaves room for tiny MSS paths and still caps
 * a 1-byte-per-segment trickle at ~1024 small allocations per socket.
 */
const MAX_BUFFERED_CHUNKS = 1024;

/** Constant-time comparison of the request's bearer token with `token`. */
function bearerMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const given = createHash('sha256').update(header.slice(7).trim()).digest();
  return timingSafeEqual(given, createHash('sha256').update(token).digest());
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
