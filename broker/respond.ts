/** The JSON answers of the server's small APIs (/api/ice, /api/push, /api/inbox): never cached, never sniffed. */
import type { ServerResponse } from 'node:http';

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    // A credential or a push answer must not land in a browser, proxy or service-worker cache.
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** 405 with the one method the endpoint takes, and no body. */
export function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.writeHead(405, { Allow: allow, 'Cache-Control': 'no-store' });
  res.end();
}
