/**
 * HTTP_REDIRECT_PORT: a plain-HTTP listener whose only answer is
 * `301 Location: https://<host>:<https port><path>`, so someone who types the
 * bare address on a phone lands on the HTTPS app (the camera needs it).
 *
 * The host comes from the request's Host header, without its port: the
 * browser put it there from the URL it was given. It is checked to be a plain
 * host name or IP address; anything else gets 400, so no header value is ever
 * echoed into a Location.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import type { Logger } from './log';

export interface RedirectOptions {
  host: string;
  /** 0 = any free port (tests). */
  port: number;
  /** The HTTPS port to send browsers to; 443 is left out of the Location. */
  httpsPort: number;
  logger: Logger;
}

export interface RedirectServer {
  /** The port actually bound. */
  port: number;
  /** Idempotent. */
  close(): Promise<void>;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
/** A request target that can go into a header as is: origin-form, visible ASCII (RFC 9112 §3.2.1). */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;

/** The host part of a Host header ("example.org:8080", "[::1]:80"), or null if it is not a plain host. */
export function hostOf(header: string | undefined): string | null {
  if (header === undefined || header.length > 260) return null;
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i.exec(header);
  if (bracketed) return isIP(bracketed[1] ?? '') === 6 ? `[${bracketed[1]}]` : null;
  const [host = '', port, ...rest] = header.split(':');
  if (rest.length > 0 || (port !== undefined && !/^\d{1,5}$/.test(port))) return null;
  return isIP(host) === 4 || HOST_NAME.test(host) ? host.toLowerCase() : null;
}

/** Where to send `req`, or null when its Host or target can't be trusted into a Location. */
export function redirectTarget(req: IncomingMessage, httpsPort: number): string | null {
  const host = hostOf(req.headers.host);
  const target = req.url ?? '/';
  if (host === null || !ORIGIN_FORM.test(target)) return null;
  return `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${target}`;
}

export async function startRedirectServer(options: RedirectOptions): Promise<RedirectServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const location = redirectTarget(req, options.httpsPort);
    if (location === null) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end('Bad request');
      return;
    }
    // 301 for every method, as browsers expect from an http→https hop; a
    // non-GET here came from something that was never going to work over http.
    res.writeHead(301, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`Moved to ${location}\n`);
  });
  // Nothing here is worth a long-lived connection.
  server.keepAliveTimeout = 1000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.logger.error({ err }, 'http redirect server error'));

  let closing: Promise<void> | null = null;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
