/**
 * Security headers for every HTTP response the server writes: the app, its
 * files, /healthz, /metrics, /config.json, errors and 404s. Set once per
 * request before routing, so no route can forget them.
 *
 * The CSP allows exactly what the app does: its own scripts and styles (Solid
 * sets inline `style` attributes, hence 'unsafe-inline' for styles only,
 * never for scripts), camera/mic/screen streams shown through blob: and
 * mediastream:, a service worker and a manifest from this origin, and
 * connections to this origin and the MQTT broker.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyTrust } from './ip';

export interface HeaderOptions {
  /** BROKER_URL, when the app talks to an external broker. */
  brokerUrl: string | null;
  /** True when this server terminates TLS itself. */
  secure: boolean;
  trust: ProxyTrust;
}

/** One year, the value hstspreload.org asks for. */
const HSTS = 'max-age=31536000; includeSubDomains';

/** A Host header we are willing to echo into the CSP: hostname or [IPv6], optional port. */
const SAFE_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

const FIXED: Readonly<Record<string, string>> = {
  'Permissions-Policy': 'camera=(self), microphone=(self), display-capture=(self)',
  // The call link carries the room secret in its fragment; no Referer may ever leak the page URL.
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export class SecurityHeaders {
  private readonly brokerOrigin: string | null;

  constructor(private readonly options: HeaderOptions) {
    this.brokerOrigin = options.brokerUrl === null ? null : new URL(options.brokerUrl).origin;
  }

  /** Sets the headers on `res`; routes add theirs with writeHead, which merges. */
  apply(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of Object.entries(this.headersFor(req))) res.setHeader(name, value);
  }

  headersFor(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = { 'Content-Security-Policy': this.csp(req), ...FIXED };
    // Browsers ignore HSTS received over plain HTTP [RFC 6797 §8.1], so it is
    // sent only when the browser is on HTTPS: ours, or a trusted proxy's.
    if (this.isHttps(req)) headers['Strict-Transport-Security'] = HSTS;
    return headers;
  }

  private csp(req: IncomingMessage): string {
    // 'self' covers ws:/wss: to this host in CSP Level 3 browsers only, and
    // Safari before 15.4 refused it; naming the WebSocket origin works everywhere.
    const connect = ["'self'"];
    const host = req.headers.host;
    if (host !== undefined && SAFE_HOST.test(host)) connect.push(`${this.isHttps(req) ? 'wss' : 'ws'}://${host.toLowerCase()}`);
    if (this.brokerOrigin !== null) connect.push(this.brokerOrigin);
    return [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "media-src 'self' blob: mediastream:",
      `connect-src ${connect.join(' ')}`,
      // mqtt.js runs its keepalive timers in a blob: worker so a background tab's
      // throttled timers can't make the broker drop us (worker-timers).
      "worker-src 'self' blob:",
      "manifest-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ].join('; ');
  }

  /** HTTPS here, or at a trusted proxy that says so in X-Forwarded-Proto. */
  private isHttps(req: IncomingMessage): boolean {
    if (this.options.secure) return true;
    const peer = req.socket.remoteAddress;
    const proto = req.headers['x-forwarded-proto'];
    return peer !== undefined && typeof proto === 'string' && proto.split(',')[0]?.trim() === 'https' && this.options.trust.trusts(peer);
  }
}
