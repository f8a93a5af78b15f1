/**
 * POST /api/inbox: publishes one sealed inbox message (protocol/ring.ts) for
 * a service worker, which has no MQTT connection: a Decline tapped on a
 * ring notification while no page of the app is open. The server learns
 * what it learns from an MQTT publish: an opaque inbox id and ciphertext.
 *
 *   Request  application/json: { inbox: <inbox id>, payload: base64url (≤ MAX_INBOX_PAYLOAD_BYTES) }
 *   202 { ok: true } · 400 { error } · 405 · 413 · 415
 *   429 { error: "rate-limited" } + Retry-After (per address, and the inbox's own ring budget)
 *   501 { error: "inbox relay unavailable" } with BROKER_URL: the phones use another broker
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Aedes } from 'aedes';
import { fromBase64Url, inboxTopic, isInboxId, MAX_INBOX_PAYLOAD_BYTES } from '../protocol/index';
import type { InboxPolicy } from './inbox';
import { limitKey } from './ip';
import { KeyedRateLimit, type Clock } from './limits';
import type { Logger } from './log';
import { isJson, readBody } from './push';
import { json, methodNotAllowed } from './respond';

const MAX_BODY_BYTES = 4 * 1024;
/** A Decline or two per minute is all a phone needs; behind carrier NAT many share an address. */
const PER_IP_BURST = 60;

export interface InboxRelayDeps {
  broker: Aedes;
  inbox: InboxPolicy;
  logger: Logger;
  clientAddress: (req: IncomingMessage) => string;
  /** Set when the app uses another broker (BROKER_URL): publishing here would reach no one. */
  external: boolean;
  now?: Clock;
}

export class InboxRelay {
  private readonly perIp: KeyedRateLimit;

  constructor(private readonly deps: InboxRelayDeps) {
    this.perIp = new KeyedRateLimit(PER_IP_BURST, PER_IP_BURST / 60, deps.now ?? Date.now);
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    const wait = this.perIp.take(limitKey(this.deps.clientAddress(req)));
    if (wait !== null) return json(res, 429, { error: 'rate-limited' }, { 'Retry-After': String(wait) });
    if (this.deps.external) return json(res, 501, { error: 'inbox relay unavailable' });
    if (!isJson(req.headers['content-type'])) return json(res, 415, { error: 'expected application/json' });
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === 'aborted') return;
    if (body === 'too-large') return json(res, 413, { error: 'too large' }, { Connection: 'close' });
    let x: unknown;
    try {
      x = JSON.parse(body.toString('utf8'));
    } catch {
      return json(res, 400, { error: 'not JSON' });
    }
    const { inbox, payload } = (typeof x === 'object' && x !== null ? x : {}) as { inbox?: unknown; payload?: unknown };
    if (!isInboxId(inbox)) return json(res, 400, { error: 'inbox must be an inbox id' });
    const bytes = typeof payload === 'string' ? fromBase64Url(payload) : null;
    if (!bytes || bytes.length === 0 || bytes.length > MAX_INBOX_PAYLOAD_BYTES) return json(res, 400, { error: 'payload must be base64url, 1..2048 bytes' });
    if (!this.deps.inbox.relay(inbox)) return json(res, 429, { error: 'rate-limited' }, { 'Retry-After': '60' });
    await new Promise<void>((resolve) => {
      this.deps.broker.publish({ cmd: 'publish', topic: inboxTopic(inbox), payload: Buffer.from(bytes), qos: 1, retain: false, dup: false }, (err) => {
        if (err) this.deps.logger.warn({ err }, 'inbox relay publish failed');
        resolve();
      });
    });
    json(res, 202, { ok: true });
  }
}
