/**
 * The door in front of `/mqtt`: decides on each WebSocket upgrade request
 * before the handshake, so a refused request costs one parsed HTTP header and
 * a short HTTP answer (429 or 403), never a WebSocket, a stream or an Aedes
 * client. It runs as ws's `verifyClient`, after ws has checked the upgrade
 * headers and before it writes `101 Switching Protocols`.
 *
 * Three checks, cheapest first:
 *  0. The process's own cap on open connections (MAX_CONNECTIONS): past it,
 *     503 for everyone, because the next thousand sockets would exhaust memory.
 *  1. Origin. A browser always sends it with a WebSocket upgrade, so a page on
 *     another site can't open our broker from a visitor's browser (there is no
 *     CORS for WebSockets). Requests without Origin come from non-browser
 *     clients (mqtt.js in Node, test tools): Origin protects browsers only,
 *     and a non-browser client could send any Origin it likes, so they pass.
 *  2. Per-address limits (limits.ts): too many open, too many new; a
 *     backstop sized for a NAT pool. Flapping is judged per clientId at
 *     CONNECT (hooks.ts), not here.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from './log';
import { IpLimiter, type Clock, type IpLimits } from './limits';
import { clientAddress, limitKey, type ProxyTrust } from './ip';
import type { Metrics, UpgradeRefusal } from './metrics';

export interface GateOptions {
  /** Origins allowed besides the server's own (exact `scheme://host[:port]`). */
  allowedOrigins: readonly string[];
  trust: ProxyTrust;
  limits: IpLimits;
  /** Open connections on this process beyond which upgrades get 503. */
  maxConnections: number;
  metrics: Metrics;
  logger: Logger;
  now?: Clock;
}

/** What ws's `verifyClient` receives. */
export interface UpgradeInfo {
  origin: string | undefined;
  req: IncomingMessage;
}

type VerifyCallback = (verified: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

/** Who a connection counts against; fixed at the upgrade. */
export interface Admission {
  /** The client's address (from X-Forwarded-For only behind a trusted proxy): for logs. */
  address: string;
  /** The per-address limit key (IPv6 per /64). */
  key: string;
}

export class UpgradeGate {
  private readonly limiter: IpLimiter;
  private readonly allowed: ReadonlySet<string>;
  private readonly admissions = new WeakMap<IncomingMessage, Admission>();
  private open = 0;

  constructor(private readonly options: GateOptions) {
    this.allowed = new Set(options.allowedOrigins.map((o) => o.toLowerCase()));
    this.limiter = new IpLimiter(options.limits, options.now);
  }

  /** ws's `verifyClient` (the two-argument form; the callback is always called synchronously). */
  readonly verifyClient = (info: UpgradeInfo, done: VerifyCallback): void => {
    const { req } = info;
    if (this.open >= this.options.maxConnections) {
      this.refused('server-full', req);
      // A hint, not a promise: connections end all the time, and clients back off anyway.
      done(false, 503, 'Server full', { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10' });
      return;
    }
    if (!this.originAllowed(info.origin, req)) {
      this.refused('origin', req);
      done(false, 403, 'Forbidden origin', { 'Content-Type': 'text/plain; charset=utf-8' });
      return;
    }
    const address = clientAddress(req, this.options.trust);
    const key = limitKey(address);
    const verdict = this.limiter.admit(key);
    if (!verdict.ok) {
      this.refused(verdict.reason, req, address);
      const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
      if (verdict.retryAfterSeconds !== null) headers['Retry-After'] = String(verdict.retryAfterSeconds);
      done(false, 429, 'Too many connections', headers);
      return;
    }
    this.admissions.set(req, { address, key });
    done(true);
  };

  /**
   * Counts a connection that completed its handshake against its address.
   * ws emits 'connection' synchronously after a synchronous verifyClient, so
   * check and count can't interleave with another upgrade.
   */
  opened(req: IncomingMessage): Admission {
    const admission = this.admissions.get(req) ?? this.unverified(req);
    this.limiter.opened(admission.key);
    this.open += 1;
    return admission;
  }

  closed(admission: Admission): void {
    this.limiter.closed(admission.key);
    this.open -= 1;
  }

  /** Addresses the limiter remembers (bounded by recent traffic). */
  get trackedAddresses(): number {
    return this.limiter.size;
  }

  /** Same origin as the request's Host, or listed in ALLOWED_ORIGINS; no Origin at all = not a browser. */
  private originAllowed(origin: string | undefined, req: IncomingMessage): boolean {
    if (origin === undefined) return true;
    const normalized = origin.toLowerCase();
    if (this.allowed.has(normalized)) return true;
    let parsed: URL;
    try {
      parsed = new URL(normalized);
    } catch {
      return false; // includes the opaque origin "null" (sandboxed frames, file:)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
    const host = this.requestHost(req);
    if (host === null) return false;
    try {
      // Parsed with the Origin's scheme, so a default port written in Host (`:443`) compares equal.
      return new URL(`${parsed.protocol}//${host}`).host === parsed.host;
    } catch {
      return false;
    }
  }

  /** The Host the browser used: X-Forwarded-Host when a trusted proxy rewrote Host, else Host. */
  private requestHost(req: IncomingMessage): string | null {
    const peer = req.socket.remoteAddress;
    const forwarded = req.headers['x-forwarded-host'];
    if (peer !== undefined && typeof forwarded === 'string' && this.options.trust.trusts(peer)) {
      const last = forwarded.split(',').pop()?.trim();
      if (last) return last.toLowerCase();
    }
    return req.headers.host?.toLowerCase() ?? null;
  }

  private unverified(req: IncomingMessage): Admission {
    // Only reachable if the WebSocketServer was built without this gate.
    const address = clientAddress(req, this.options.trust);
    return { address, key: limitKey(address) };
  }

  private refused(reason: UpgradeRefusal, req: IncomingMessage, address?: string): void {
    this.options.metrics.upgradeRefused(reason);
    // debug, not info: a flood would otherwise turn into a log flood.
    this.options.logger.debug({ reason, remote: address ?? req.socket.remoteAddress }, 'upgrade refused');
  }
}
