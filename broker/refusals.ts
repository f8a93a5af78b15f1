/**
 * How the broker's hooks say no: the error that makes Aedes close a hostile
 * connection, CONNACK codes, and the small helpers hooks.ts and inbox.ts share.
 */
import type { AuthenticateError, Subscription } from 'aedes';
import { MAX_TOPIC_CHARS } from '../protocol/index';
import type { RefusalReason } from './metrics';

/** Passed to Aedes to refuse a packet; Aedes then closes the connection, which we want for a hostile client. */
export class RefusedError extends Error {
  constructor(readonly reason: RefusalReason) {
    super(`refused: ${reason}`);
    this.name = 'RefusedError';
  }
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3. */
export const IDENTIFIER_REJECTED = 2;
export const SERVER_UNAVAILABLE = 3;
export const BAD_CREDENTIALS = 4;
export const NOT_AUTHORIZED = 5;

export function grant(sub: Subscription): Subscription {
  // QoS 2 buys nothing for signaling (the app drops duplicates by session/gen) and costs state.
  return sub.qos > 1 ? { ...sub, qos: 1 } : sub;
}

export function payloadBytes(payload: Buffer | string): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

export function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export function clip(text: string | null | undefined): string | undefined {
  return text == null ? undefined : text.slice(0, MAX_TOPIC_CHARS);
}
