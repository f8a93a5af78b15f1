/**
 * A load generator process: many rooms of two mqtt.js peers each, driven by
 * its parent over IPC (loadgen-protocol.ts). It runs in its own process so
 * that its CPU is not the broker's, and reports its own CPU use, because on
 * a 2-core machine it competes with the broker for the same cores.
 *
 * Per room, the app's join sequence with payloads sealed by protocol/
 * (AES-GCM, topic as additional data), so the broker carries what the app
 * would send:
 *   A: CONNECT (Will = empty retained presence) → SUBSCRIBE room filters →
 *      PUBLISH retained presence with an offer (~4 KB sealed)
 *   B: CONNECT → SUBSCRIBE (gets A's retained presence, opens it) →
 *      PUBLISH its presence (retained) and an answer (~4 KB), then its candidates
 *   A: on the answer (opened), PUBLISH its candidates
 *   done when A has B's answer and candidates and B has A's candidates.
 * Then ping-pong: A publishes on its signal topic, B answers on its own,
 * one round trip in flight per room, as fast as it goes.
 *
 * Everything is sealed before the clock starts (the broker can't tell a
 * payload sealed now from one sealed earlier), so the generator spends its
 * measured CPU on MQTT, not on AES. B does open the offer and A the answer,
 * as the app must before it can go on.
 */
import { performance } from 'node:perf_hooks';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  KEEPALIVE_SECONDS,
  clientIdFor,
  deriveKey,
  deriveRoomId,
  newPeerToken,
  peerIdOf,
  newSecret,
  openMessage,
  peerTopic,
  roomFilters,
  sealMessage,
  type PeerId,
  type PeerToken,
  type RoomId,
  type SignalMessage,
  PROTOCOL_VERSION,
} from '../../protocol/index';
import type { FromGenerator, JoinReport, LoadConfig, PingReport, ToGenerator } from './loadgen-protocol';
import { fakeCandidate, fakeSdp } from './sdp';

const JOIN_TIMEOUT_MS = 60_000;

interface Peer {
  id: PeerId;
  token: PeerToken;
  url: string;
  presence: string;
  signal: string;
  client: MqttClient | null;
  /** Replaced per phase; one listener on the client calls whichever is current. */
  onMessage: (topic: string, payload: Buffer) => void;
}

interface Room {
  index: number;
  id: RoomId;
  key: CryptoKey;
  a: Peer;
  b: Peer;
  sealed: {
    presenceA: Buffer;
    presenceB: Buffer;
    answer: Buffer;
    candidatesA: Buffer[];
    candidatesB: Buffer[];
    ping: Buffer;
    pong: Buffer;
  };
  joined: boolean;
}

let config: LoadConfig | null = null;
let rooms: Room[] = [];
const send = (message: FromGenerator): void => {
  process.send?.(message);
};

process.on('message', (message: ToGenerator) => {
  handle(message).catch((err: unknown) => send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
// The parent going away must not leave thousands of sockets behind.
process.on('disconnect', () => process.exit(0));

async function handle(message: ToGenerator): Promise<void> {
  switch (message.type) {
    case 'prepare': {
      const started = performance.now();
      config = message.config;
      rooms = await Promise.all(Array.from({ length: config.rooms }, (_, i) => prepareRoom(i, config!)));
      send({ type: 'prepared', ms: performance.now() - started });
      return;
    }
    case 'join':
      send({ type: 'joined', report: await joinAll() });
      return;
    case 'pingpong':
      send({ type: 'pinged', report: await pingPong(message.durationMs, message.warmupMs) });
      return;
    case 'close':
      await Promise.all(rooms.flatMap((r) => [r.a, r.b]).map((p) => p.client?.endAsync(true).catch(() => {})));
      send({ type: 'closed' });
      process.disconnect?.();
      return;
    default: {
      const never: never = message;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}

async function prepareRoom(index: number, cfg: LoadConfig): Promise<Room> {
  const secret = newSecret();
  const [id, key] = await Promise.all([deriveRoomId(secret), deriveKey(secret)]);
  // Each peer proves its id with a token, as the app does (the broker checks it at CONNECT).
  const tokens = [newPeerToken(), newPeerToken()] as const;
  const ids = await Promise.all(tokens.map((t) => peerIdOf(t)));
  const peer = (n: 0 | 1): Peer => {
    const pid = ids[n]!;
    return {
      id: pid,
      token: tokens[n],
      url: cfg.urls[(index + n) % cfg.urls.length]!,
      presence: peerTopic(id, pid, 'presence'),
      signal: peerTopic(id, pid, 'signal'),
      client: null,
      onMessage: () => {},
    };
  };
  const a = peer(0);
  const b = peer(1);
  const envelope = (from: Peer) => ({ v: PROTOCOL_VERSION as typeof PROTOCOL_VERSION, from: from.id, session: `s${index}${from === a ? 'a' : 'b'}`, gen: 0 });
  const to = (p: Peer) => ({ session: `s${index}${p === a ? 'a' : 'b'}`, gen: 0 });
  const seal = async (topic: string, message: SignalMessage): Promise<Buffer> => Buffer.from(await sealMessage(key, topic, message));
  const candidates = (from: Peer, other: Peer): Promise<Buffer[]> =>
    Promise.all(
      Array.from({ length: cfg.candidates }, (_, i) => seal(from.signal, { ...envelope(from), type: 'candidate', to: to(other), candidate: fakeCandidate(i) })),
    );
  const [presenceA, presenceB, answer, candidatesA, candidatesB, ping, pong] = await Promise.all([
    seal(a.presence, { ...envelope(a), type: 'presence', offer: { type: 'offer', sdp: fakeSdp(cfg.sdpChars) } }),
    seal(b.presence, { ...envelope(b), type: 'presence', offer: null }),
    seal(b.signal, { ...envelope(b), type: 'description', to: to(a), description: { type: 'answer', sdp: fakeSdp(cfg.sdpChars) } }),
    candidates(a, b),
    candidates(b, a),
    seal(a.signal, { ...envelope(a), type: 'media', to: to(b), state: { audioMuted: false, videoOff: false, screen: false } }),
    seal(b.signal, { ...envelope(b), type: 'media', to: to(a), state: { audioMuted: false, videoOff: false, screen: false } }),
  ]);
  return { index, id, key, a, b, sealed: { presenceA, presenceB, answer, candidatesA, candidatesB, ping, pong }, joined: false };
}

function connect(room: Room, peer: Peer, cfg: LoadConfig, n: number): Promise<MqttClient> {
  const localAddress = cfg.localAddresses.length > 0 ? cfg.localAddresses[n % cfg.localAddresses.length] : undefined;
  const options: IClientOptions = {
    clientId: clientIdFor(room.id, peer.id),
    username: room.id,
    password: Buffer.from(peer.token),
    protocolVersion: 4,
    clean: true,
    keepalive: KEEPALIVE_SECONDS,
    reconnectPeriod: 0,
    connectTimeout: JOIN_TIMEOUT_MS,
    will: { topic: peer.presence, payload: Buffer.alloc(0), qos: 1, retain: true },
    ...(localAddress ? { wsOptions: { localAddress } } : {}),
  };
  const client = mqtt.connect(peer.url, options);
  peer.client = client;
  client.on('message', (topic, payload) => peer.onMessage(topic, payload));
  return new Promise((resolve, reject) => {
    client.once('connect', () => {
      client.removeAllListeners('error');
      client.on('error', () => {});
      resolve(client);
    });
    client.once('error', reject);
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

async function subscribe(client: MqttClient, room: Room, qos: 0 | 1): Promise<void> {
  let granted: number[];
  try {
    granted = (await client.subscribeAsync(roomFilters(room.id), { qos })).map((g) => g.qos);
  } catch (err) {
    const codes = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!codes) throw err;
    granted = codes;
  }
  if (granted.some((q) => (q & 0x80) !== 0)) throw new Error(`room refused (SUBACK ${granted.join(',')})`);
}

/** Resolves when `peer` has received `count` messages on `topic`, with the first one's payload. */
function expect(peer: Peer, topic: string, count: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let first: Buffer | null = null;
    let seen = 0;
    const previous = peer.onMessage;
    peer.onMessage = (t, payload) => {
      previous(t, payload);
      if (t !== topic || payload.length === 0) return;
      first ??= payload;
      if (++seen === count) resolve(first);
    };
  });
}

async function joinRoom(room: Room, cfg: LoadConfig): Promise<number> {
  const { a, b, sealed } = room;
  const started = performance.now();
  const publish = (client: MqttClient, topic: string, payload: Buffer, retain = false): Promise<unknown> =>
    client.publishAsync(topic, payload, { qos: cfg.qos, retain });

  const ca = await connect(room, a, cfg, 2 * room.index);
  await subscribe(ca, room, cfg.qos);
  await publish(ca, a.presence, sealed.presenceA, true);

  const offerSeen = expect(b, a.presence, 1);
  const candidatesSeenByB = expect(b, a.signal, cfg.candidates);
  const cb = await connect(room, b, cfg, 2 * room.index + 1);
  await subscribe(cb, room, cfg.qos);
  await openMessage(room.key, a.presence, 'presence', await offerSeen);

  const answerSeen = expect(a, b.signal, 1);
  const allFromB = expect(a, b.signal, 1 + cfg.candidates);
  // B publishes without waiting for each PUBACK, as the app's candidates trickle out.
  const fromB = Promise.all([publish(cb, b.presence, sealed.presenceB, true), publish(cb, b.signal, sealed.answer), ...sealed.candidatesB.map((c) => publish(cb, b.signal, c))]);
  await openMessage(room.key, b.signal, 'signal', await answerSeen);
  const fromA = Promise.all(sealed.candidatesA.map((c) => publish(ca, a.signal, c)));
  await Promise.all([fromA, fromB, allFromB, cfg.candidates > 0 ? candidatesSeenByB : null]);
  a.onMessage = () => {};
  b.onMessage = () => {};
  return performance.now() - started;
}

async function joinAll(): Promise<JoinReport> {
  const cfg = config!;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const latencies: number[] = [];
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rooms.length) {
      const room = rooms[next++]!;
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`join timed out after ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
        });
        latencies.push(await Promise.race([joinRoom(room, cfg), timeout]));
        room.joined = true;
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push(`room ${room.index}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, rooms.length) }, worker));
  const used = process.cpuUsage(cpu);
  return { joined: latencies.length, failed, errors, latencies, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

async function pingPong(durationMs: number, warmupMs: number): Promise<PingReport> {
  const cfg = config!;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const windowStart = started + warmupMs;
  const deadline = started + durationMs;
  const latencies: number[] = [];
  let inFlight = 0;
  let stopping = false;
  let drained: () => void = () => {};

  for (const room of rooms.filter((r) => r.joined)) {
    const { a, b, sealed } = room;
    const ca = a.client!;
    const cb = b.client!;
    let sentAt = 0;
    const ping = (): void => {
      sentAt = performance.now();
      inFlight++;
      ca.publish(a.signal, sealed.ping, { qos: cfg.qos });
    };
    b.onMessage = (topic) => {
      if (topic === a.signal) cb.publish(b.signal, sealed.pong, { qos: cfg.qos });
    };
    a.onMessage = (topic) => {
      if (topic !== b.signal) return; // its own ping, echoed by the room filter
      const now = performance.now();
      inFlight--;
      if (sentAt >= windowStart && now <= deadline) latencies.push(now - sentAt);
      if (!stopping && now < deadline) ping();
      else if (inFlight === 0) drained();
    };
    ping();
  }
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  stopping = true;
  // Let the last round trips land so no reply arrives after the next phase starts; bounded.
  if (inFlight > 0) {
    await Promise.race([new Promise<void>((resolve) => (drained = resolve)), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  for (const room of rooms) {
    room.a.onMessage = () => {};
    room.b.onMessage = () => {};
  }
  const used = process.cpuUsage(cpu);
  return {
    roundTrips: latencies.length,
    windowMs: durationMs - warmupMs,
    latencies,
    wallMs: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
  };
}
