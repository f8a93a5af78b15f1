/**
 * MQTT 3.1.1 packets as raw bytes, for clients that misbehave on purpose:
 * a few encoders for valid packets, and a seeded generator of broken ones
 * (random, truncated, mislabelled, mutated). Seeded, so a failing fuzz run
 * can be replayed with the seed it printed.
 */
import { tokenOf } from './peers';

/** Remaining Length [MQTT-2.2.3]: 7 bits per byte, low group first. */
export function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function utf8(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.of(body.length >> 8, body.length & 0xff), body]);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of(first, ...remainingLength(body.length)), body]);
}

const u16 = (n: number): Buffer => Buffer.of((n >> 8) & 0xff, n & 0xff);

/**
 * CONNECT for `clientId`. For a `<room>.<peer>` whose peer came from
 * helpers/peers.ts it carries the username and password the broker checks,
 * as the app's does; `credentials: false` leaves them out.
 */
export function connect(clientId: string, keepalive = 10, flags = 0x02, { credentials: withCredentials = true } = {}): Buffer {
  const [room = '', peer = ''] = clientId.split('.');
  const token = withCredentials ? tokenOf(peer) : undefined;
  const auth = token ? [utf8(room), utf8(token)] : [];
  return packet(0x10, Buffer.concat([utf8('MQTT'), Buffer.of(4, token ? flags | 0xc0 : flags), u16(keepalive), utf8(clientId), ...auth]));
}

export interface WillSpec {
  topic: string;
  payload: Buffer | string;
  qos: number;
  retain: boolean;
}

/** CONNECT for `clientId` with the helper's credentials and a Will [MQTT-3.1.2-8..17]. */
export function connectWithWill(clientId: string, will: WillSpec, keepalive = 10): Buffer {
  const [room = '', peer = ''] = clientId.split('.');
  const token = tokenOf(peer) ?? '';
  const flags = 0xc0 | (will.retain ? 0x20 : 0) | ((will.qos & 3) << 3) | 0x04 | 0x02;
  const message = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
  return packet(
    0x10,
    Buffer.concat([
      utf8('MQTT'),
      Buffer.of(4, flags),
      u16(keepalive),
      utf8(clientId),
      utf8(will.topic),
      u16(message.length),
      message,
      utf8(room),
      utf8(token),
    ]),
  );
}

export function subscribe(id: number, filters: readonly string[], qos = 1): Buffer {
  return packet(0x82, Buffer.concat([u16(id), ...filters.map((f) => Buffer.concat([utf8(f), Buffer.of(qos)]))]));
}

export function publish(topic: string, payload: Buffer | string, options: { qos?: number; retain?: boolean; id?: number } = {}): Buffer {
  const { qos = 0, retain = false, id = 1 } = options;
  const parts = [utf8(topic)];
  if (qos > 0) parts.push(u16(id));
  parts.push(typeof payload === 'string' ? Buffer.from(payload) : payload);
  return packet(0x30 | (qos << 1) | (retain ? 1 : 0), Buffer.concat(parts));
}

export const PINGREQ = Buffer.of(0xc0, 0x00);
export const DISCONNECT = Buffer.of(0xe0, 0x00);

/** mulberry32: tiny, fast, good enough to drive a fuzzer reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzContext {
  /** A clientId the broker accepts, and its room's topics. */
  clientId: string;
  filters: readonly string[];
  ownTopic: string;
  otherRoomTopic: string;
}

type Rand = () => number;
const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)]!;
const bytes = (rand: Rand, n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 1) b[i] = int(rand, 256);
  return b;
};

/** The hostile shapes the issue lists, each a function of the generator. */
const SHAPES: ReadonlyArray<(rand: Rand, ctx: FuzzContext) => Buffer> = [
  // Random bytes behind a valid first byte (types 1-14 with any flags).
  (rand) => Buffer.concat([Buffer.of(((1 + int(rand, 14)) << 4) | int(rand, 16)), bytes(rand, int(rand, 64))]),
  // Pure noise, reserved types included.
  (rand) => bytes(rand, 1 + int(rand, 48)),
  // A valid packet, truncated.
  (rand, ctx) => {
    const whole = pick(rand, [publish(ctx.ownTopic, bytes(rand, 40), { qos: 1, id: 7 }), subscribe(3, ctx.filters), connect(ctx.clientId)]);
    return whole.subarray(0, int(rand, whole.length));
  },
  // A Remaining Length that disagrees with the body: shorter, longer, or 5 bytes.
  (rand, ctx) => {
    const whole = publish(ctx.ownTopic, bytes(rand, 20));
    const lie = pick(rand, [[0x00], [0x7f], [0xff, 0x7f], [0x80, 0x80, 0x80, 0x80, 0x01], [0xff, 0xff, 0xff, 0x7f], [0x80]]);
    return Buffer.concat([Buffer.of(whole[0]!, ...lie), whole.subarray(2)]);
  },
  // PUBLISH with QoS 3 [MQTT-3.3.1-4].
  (rand, ctx) => {
    const p = publish(ctx.ownTopic, bytes(rand, 8), { qos: 2, id: 1 + int(rand, 65535) });
    p[0] = p[0]! | 0x06;
    return p;
  },
  // QoS 1/2 PUBLISH with packet id 0 [MQTT-2.3.1-1].
  (rand, ctx) => publish(ctx.ownTopic, bytes(rand, 8), { qos: 1 + int(rand, 2), id: 0 }),
  // Wildcards and junk in a PUBLISH topic [MQTT-3.3.2-2].
  (rand, ctx) =>
    publish(pick(rand, ['#', '+', `${ctx.ownTopic}/#`, 'tandem/+/x', '', '\u0000', '$SYS/broker', ctx.otherRoomTopic]), 'x', {
      qos: int(rand, 2),
      retain: rand() < 0.3,
    }),
  // A valid packet with random bytes flipped.
  (rand, ctx) => {
    const p = Buffer.from(pick(rand, [publish(ctx.ownTopic, bytes(rand, 16), { qos: 1, id: 9 }), subscribe(5, ctx.filters), PINGREQ]));
    for (let n = 1 + int(rand, 3); n > 0; n -= 1) p[int(rand, p.length)] = int(rand, 256);
    return p;
  },
  // SUBSCRIBE oddities: QoS 3, no filters, wildcards, wrong flags.
  (rand, ctx) => {
    const s = pick(rand, [subscribe(1, ['#'], 3), subscribe(2, []), subscribe(0, ctx.filters), subscribe(4, ['+/+/+/+/+/+/+/+/+/+'])]);
    if (rand() < 0.3) s[0] = 0x80;
    return s;
  },
  // Acks for ids never used, a second CONNECT, UNSUBSCRIBE, bad protocol levels.
  (rand, ctx) =>
    pick(rand, [
      Buffer.of(0x40, 0x02, ...u16(int(rand, 65536))),
      Buffer.of(0x50, 0x02, ...u16(int(rand, 65536))),
      Buffer.of(0x62, 0x02, ...u16(int(rand, 65536))),
      Buffer.of(0x70, 0x02, ...u16(int(rand, 65536))),
      connect(ctx.clientId),
      connect(ctx.clientId, 0, 0x04), // Will flag without a Will [MQTT-3.1.2-9]
      connect(ctx.clientId, 65535, 0x80), // username flag without a username
      packet(0xa2, Buffer.concat([u16(3), utf8(ctx.filters[0]!)])),
      packet(0x10, Buffer.concat([utf8('MQTT'), Buffer.of(pick(rand, [3, 5, 255]), 0x02), u16(10), utf8(ctx.clientId)])),
    ]),
];

/** One hostile packet (or fragment of one). */
export function hostilePacket(rand: Rand, ctx: FuzzContext): Buffer {
  return pick(rand, SHAPES)(rand, ctx);
}

/** Splits `data` into WebSocket messages the way a hostile client might: whole, or cut at random points. */
export function splitRandomly(rand: Rand, data: Buffer): Buffer[] {
  if (data.length < 2 || rand() < 0.7) return [data];
  const cuts = new Set<number>();
  for (let n = 1 + int(rand, 4); n > 0; n -= 1) cuts.add(1 + int(rand, data.length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const at of sorted) {
    parts.push(data.subarray(from, at));
    from = at;
  }
  parts.push(data.subarray(from));
  return parts;
}
