/**
 * One JSON line per event on stdout (pino's default), so the process manager
 * or container runtime owns rotation and shipping.
 *
 * What may be logged: client ids, topics, reasons, remote addresses. Client
 * ids and topics carry only room and peer ids, which are hashes of the call
 * secret, never the secret. What must never be logged: payloads (sealed SDP
 * and candidates), usernames, passwords, TURN_SECRET, TURN credentials, the
 * TLS key, and query strings (GET /api/ice?client=…: log the path only).
 */
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
];

/** `destination` defaults to stdout; tests pass a stream to read the lines back. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'tandem-broker' },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
