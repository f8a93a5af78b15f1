/**
 * One JSON line per event on stdout (pino's default), so the process manager
 * or container runtime owns rotation and shipping.
 *
 * What may be logged: reasons, remote addresses, and client ids and topics
 * with their room id replaced by a short keyed hash (`pseudonymize`). A room
 * id is a hash of the call secret, but it is enough to join the room and hold
 * its places, so a log reader must not learn it (issue 11, "leaks to
 * operators"); the keyed hash still lets them follow one room through the log.
 * What must never be logged: room ids, payloads (sealed SDP and candidates),
 * usernames, passwords, TURN_SECRET, TURN credentials, the TLS key, query
 * strings (GET /api/ice?client=…: log the path only), and push endpoints,
 * subscription keys and VAPID keys (POST /api/push). A push endpoint URL is a
 * capability: whoever holds it can ring that phone; so `endpoint` fields are
 * written as the host plus a keyed hash, like room ids.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/**
 * Defense in depth: if someone ever logs a packet, a config, an ICE answer or
 * request headers, these keys come out redacted. `*` is one level only, so the
 * nested places where a secret lives are listed by their full shape.
 */
export const REDACT_PATHS: readonly string[] = [
  'payload', '*.payload', 'sdp', '*.sdp',
  'password', '*.password',
  // TURN: the shared secret (config.ice.turn.secret) and issued credentials (/api/ice answers).
  'secret', '*.secret', 'turn.secret', '*.turn.secret', '*.ice.turn.secret',
  'credential', '*.credential', 'iceServers[*].credential', '*.iceServers[*].credential',
  // TLS private key (config.tls.key).
  'tls.key', '*.tls.key',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
  // Web Push (push.ts): a subscription's keys, the VAPID private key (config.push.vapid).
  'subscription', '*.subscription', 'keys', '*.keys', 'privateKey', '*.privateKey', '*.vapid.privateKey', '*.*.vapid.privateKey',
  // ioredis errors carry the command's arguments: keys with room ids in them.
  'err.command', '*.err.command',
];

/** The fields that may hold a room id or a push endpoint; `pseudonymize` rewrites them on every line. */
const PSEUDONYMIZED_FIELDS = ['clientId', 'topic', 'room', 'endpoint'] as const;

/** Hex digits of the keyed hash: 48 bits, plenty to tell the rooms in one log apart. */
const REF_HEX = 12;

/**
 * A function that replaces room ids in a log line's fields by `r:<hmac>`:
 * `clientId` "<room>.<peer>" keeps its peer id, `topic` "tandem/v1/<room>/…"
 * its other levels, `room` becomes the hash alone; anything that doesn't
 * parse is hashed whole (a hostile client sends what it likes). `key`
 * (LOG_HASH_KEY) makes the hashes agree across processes and restarts; a
 * random one per process otherwise.
 */
export function pseudonymizer(key: Buffer = randomBytes(32)): (fields: Record<string, unknown>) => Record<string, unknown> {
  const ref = (text: string): string => `r:${createHmac('sha256', key).update(text).digest('hex').slice(0, REF_HEX)}`;
  const rewrite: Record<(typeof PSEUDONYMIZED_FIELDS)[number], (value: string) => string> = {
    room: ref,
    clientId: (id) => {
      const dot = id.indexOf('.');
      return dot > 0 ? `${ref(id.slice(0, dot))}${id.slice(dot)}` : ref(id);
    },
    topic: (topic) => {
      const levels = topic.split('/');
      if (levels.length < 3 || levels[0] !== 'tandem' || levels[2] === '' || levels[2] === '+' || levels[2] === '#') return ref(topic);
      levels[2] = ref(levels[2]!);
      return levels.join('/');
    },
    // "<host> r:<hash>": which push service, and one subscription followed through the log.
    endpoint: (endpoint) => {
      try {
        return `${new URL(endpoint).host} ${ref(endpoint)}`;
      } catch {
        return ref(endpoint);
      }
    },
  };
  return (fields) => {
    let out = fields;
    for (const name of PSEUDONYMIZED_FIELDS) {
      const value = fields[name];
      if (typeof value !== 'string') continue;
      if (out === fields) out = { ...fields };
      out[name] = rewrite[name](value);
    }
    return out;
  };
}

/** `destination` defaults to stdout; tests pass a stream to read the lines back. `hashKey`: LOG_HASH_KEY. */
export function createLogger(level: LogLevel, destination?: DestinationStream, hashKey?: Buffer): Logger {
  const options = {
    level,
    base: { service: 'tandem-broker' },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    formatters: { log: pseudonymizer(hashKey) },
  };
  return destination ? pino(options, destination) : pino(options);
}
