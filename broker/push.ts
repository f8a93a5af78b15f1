/**
 * POST /api/push: rings a saved contact's phone through its browser's push
 * service (issue 13), without the server learning who calls whom.
 *
 * The callee's subscription (endpoint + keys) reaches the caller inside the
 * end-to-end encrypted pairing, and the payload arrives already sealed end to
 * end; this server adds only what needs a server: RFC 8291 encryption to the
 * subscription's keys and the RFC 8292 VAPID signature, both by the `web-push`
 * library, then one POST to the endpoint (RFC 8030). It keeps no state beyond
 * in-memory rate limits.
 *
 *   Request  application/json, at most 8 KiB:
 *     { subscription: { endpoint, keys: { p256dh, auth } },
 *       payload: base64url (1..3072 bytes decoded), ttl?: seconds (clamped 0..60, default 30),
 *       topic?: ≤ 32 base64url chars (RFC 8030 §5.4: a later push with the same topic replaces an undelivered one) }
 *   202 { ok: true }                      the push service accepted it (201, or any 2xx)
 *   410 { error: "gone" }                 the push service says the subscription is dead (404/410)
 *   400 { error: "<what is wrong>" }      not JSON, missing or malformed fields, keys that are not keys
 *   403 { error: "endpoint not allowed" } not https: on a known push service (push-hosts.ts)
 *   405 (Allow: POST) · 413 { error: "too large" } · 415 { error: "expected application/json" }
 *   429 { error: "rate-limited" }         + Retry-After, per client address or per endpoint
 *   502 { error: "push failed", status? } the push service refused it (status = its answer), failed or timed out
 *   503 { error: "push disabled" }        no VAPID keys (only an embedder that passes none; main.ts always has them)
 *   503 { error: "busy" }                 + Retry-After: too many pushes in flight on this process
 *
 * Rate limits are per process: N processes behind a balancer allow N times as much.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import webpush from 'web-push';
import { limitKey } from './ip';
import { KeyedRateLimit, type Clock } from './limits';
import type { Logger } from './log';
import { json, methodNotAllowed } from './respond';
import type { Metrics } from './metrics';
import { checkEndpoint, type PushHostRule } from './push-hosts';
import { parsePushRequest, type PushRequest } from './push-request';
import type { VapidKeys } from './vapid';

export interface PushConfig {
  /** null until config.ts `withVapidKeys` has read or made them; a server started with null answers 503. */
  vapid: VapidKeys | null;
  /** The JWT's `sub`: how a push service reaches the operator (mailto: or https:). */
  subject: string;
  /** Where vapid.json lives when the keys don't come from the environment. */
  dataDir: string;
  endpointHosts: PushHostRule[];
  perEndpointPerMinute: number;
  perIpPerMinute: number;
  /** The whole exchange with the push service, connect to response headers (ms). */
  timeoutMs: number;
}

/** A ring, a cancel and a few retries per minute for one phone. */
export const DEFAULT_PUSH_PER_ENDPOINT = 12;
/** Generous: behind carrier-grade NAT thousands of phones share one address (issue 11). */
export const DEFAULT_PUSH_PER_IP = 120;
export const DEFAULT_PUSH_TIMEOUT_MS = 10_000;
/**
 * Apple refuses placeholder subjects (`@localhost`, `.invalid`, `.local`) with
 * 403 BadJwtToken (web-push-libs/web-push#947); main.ts warns while this is in use.
 */
export const DEFAULT_VAPID_SUBJECT = 'mailto:admin@localhost';

/** Request bodies larger than this are refused unread (413). */
export const MAX_PUSH_BODY_BYTES = 8 * 1024;
/** Pushes waiting for a push service at once, per process: each holds a socket and a few KiB. */
const MAX_IN_FLIGHT = 256;

export type PushResult = 'accepted' | 'gone' | 'refused' | 'failed' | 'limited';

export interface PushRelayDeps {
  push: PushConfig;
  metrics: Metrics;
  logger: Logger;
  /** The client's address (ip.ts `clientAddress`), proxies taken into account. */
  clientAddress(req: IncomingMessage): string;
  now?: Clock;
}

type Upstream = { status: number } | { error: 'timeout' | 'network' };

export class PushRelay {
  private readonly perIp: KeyedRateLimit;
  private readonly perEndpoint: KeyedRateLimit;
  // Keep-alive: a ring is often followed within seconds by its cancel, to the same push service.
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  private inFlight = 0;
  private closed = false;

  constructor(private readonly deps: PushRelayDeps) {
    const now = deps.now ?? Date.now;
    const { perIpPerMinute, perEndpointPerMinute } = deps.push;
    this.perIp = new KeyedRateLimit(perIpPerMinute, perIpPerMinute / 60, now);
    this.perEndpoint = new KeyedRateLimit(perEndpointPerMinute, perEndpointPerMinute / 60, now);
  }

  /** The key the app subscribes with (GET /config.json); null when push is disabled. */
  get publicKey(): string | null {
    return this.deps.push.vapid?.publicKey ?? null;
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      methodNotAllowed(res, 'POST');
      return;
    }
    const address = this.deps.clientAddress(req);
    // First, so garbage and probing cost the same as a real push.
    const ipWait = this.perIp.take(limitKey(address));
    if (ipWait !== null) return this.limited(res, address, 'address', ipWait);
    const vapid = this.deps.push.vapid;
    if (vapid === null || this.closed) return this.answer(res, 'failed', 503, { error: 'push disabled' });
    // JSON only: a cross-origin page can't send application/json without a CORS
    // preflight, which we never answer, so no other site can make browsers post here.
    if (!isJson(req.headers['content-type'])) return this.refuse(res, address, 415, 'expected application/json');

    const body = await readBody(req, MAX_PUSH_BODY_BYTES);
    if (body === 'aborted') return;
    if (body === 'too-large') return this.refuse(res, address, 413, 'too large', { Connection: 'close' });
    const parsed = parsePushRequest(body);
    if (!parsed.ok) return this.refuse(res, address, 400, parsed.error);
    const push = parsed.value;

    const verdict = checkEndpoint(push.endpoint, this.deps.push.endpointHosts);
    if (!verdict.ok) {
      // The host only (not the URL: it is a capability), and only once it parsed.
      this.deps.logger.info({ remote: address, problem: verdict.problem }, 'push endpoint not allowed');
      return this.answer(res, 'refused', 403, { error: 'endpoint not allowed' });
    }
    const url = verdict.url;
    const endpointWait = this.perEndpoint.take(endpointKey(url));
    if (endpointWait !== null) return this.limited(res, address, 'endpoint', endpointWait, url.href);
    if (this.inFlight >= MAX_IN_FLIGHT) return this.answer(res, 'limited', 503, { error: 'busy' }, { 'Retry-After': '1' });

    this.inFlight += 1;
    let upstream: Upstream;
    try {
      upstream = await this.send(url, push, vapid);
    } finally {
      this.inFlight -= 1;
    }
    // `endpoint` is rewritten to "<host> r:<keyed hash>" by log.ts before it is written.
    const fields = { endpoint: url.href, remote: address, ...upstream };
    if ('error' in upstream) {
      this.deps.logger.warn(fields, 'push service unreachable');
      return this.answer(res, 'failed', 502, { error: 'push failed' });
    }
    const { status } = upstream;
    // RFC 8030 §5 says 201 Created; some services answer 200 or 202.
    if (status >= 200 && status < 300) {
      this.deps.logger.debug(fields, 'push accepted');
      return this.answer(res, 'accepted', 202, { ok: true });
    }
    // RFC 8030 §7.3: the subscription has expired or been removed; the caller drops it.
    if (status === 404 || status === 410) {
      this.deps.logger.debug(fields, 'push subscription gone');
      return this.answer(res, 'gone', 410, { error: 'gone' });
    }
    this.deps.logger.warn(fields, 'push service refused');
    return this.answer(res, 'failed', 502, { error: 'push failed', status });
  }

  /** Drops the pooled sockets to push services; later requests get 503. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }

  /** One POST to the push service; no redirects are followed (Node's http never does). */
  private send(url: URL, push: PushRequest, vapid: VapidKeys): Promise<Upstream> {
    const details = webpush.generateRequestDetails(
      { endpoint: url.href, keys: { p256dh: push.p256dh, auth: push.auth } },
      push.payload,
      {
        vapidDetails: { subject: this.deps.push.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        TTL: push.ttl,
        urgency: 'high',
        contentEncoding: 'aes128gcm',
        ...(push.topic === null ? {} : { topic: push.topic }),
      },
    );
    const https = url.protocol === 'https:';
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: Upstream): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method: 'POST', headers: details.headers, agent: https ? this.httpsAgent : this.httpAgent },
        (res) => {
          // The status is all we need; the body is drained so the socket can be reused.
          res.resume();
          res.on('close', () => clearTimeout(timer));
          res.on('error', () => {});
          settle({ status: res.statusCode ?? 0 });
        },
      );
      // Covers connect, TLS, the upload and the response body: a slow service can't hold a socket past it.
      const timer = setTimeout(() => {
        settle({ error: 'timeout' });
        req.destroy();
      }, this.deps.push.timeoutMs);
      req.on('error', () => {
        clearTimeout(timer);
        settle({ error: 'network' });
      });
      req.end(details.body);
    });
  }

  private limited(res: ServerResponse, address: string, per: 'address' | 'endpoint', wait: number, endpoint?: string): void {
    this.deps.logger.info({ remote: address, per, ...(endpoint === undefined ? {} : { endpoint }) }, 'push rate-limited');
    this.answer(res, 'limited', 429, { error: 'rate-limited' }, { 'Retry-After': String(wait) });
  }

  private refuse(res: ServerResponse, address: string, status: number, error: string, headers: Record<string, string> = {}): void {
    this.deps.logger.info({ remote: address, status, reason: error }, 'push request refused');
    this.answer(res, 'refused', status, { error }, headers);
  }

  private answer(res: ServerResponse, result: PushResult, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.deps.metrics.pushed(result);
    json(res, status, body, headers);
  }
}

/** The per-endpoint limiter's key: a digest, so the limiter holds no capability URLs. */
function endpointKey(url: URL): string {
  return createHash('sha256').update(url.href).digest('base64url');
}

export function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

/** The body, or 'too-large' as soon as it passes `max` bytes (before, when Content-Length says so), or 'aborted'. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | 'too-large' | 'aborted'): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        // Stop reading; the 413 goes out with Connection: close, which ends the socket after it.
        req.pause();
        done('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => done(Buffer.concat(chunks));
    const onError = (): void => done('aborted');
    const onClose = (): void => {
      if (!req.complete) done('aborted');
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
