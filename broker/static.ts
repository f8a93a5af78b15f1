/**
 * Serves the built app from DIST_DIR. Vite fingerprints everything under
 * /assets/, so those are cached for a year; every other file (index.html,
 * sw.js, manifest.webmanifest, icons) must be revalidated, or a deploy would
 * leave phones on the old service worker.
 *
 * Files are read into memory on first use and kept (dist/ is a few hundred
 * KiB); a changed mtime or size reloads them, so a rebuild while the server
 * runs is picked up. gzip variants are made lazily, once per file version.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';

const gzip = promisify(gzipCallback);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};
const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json|xml)|image\/svg\+xml)/;

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
/** Larger files are streamed as they are instead of being held in memory. */
const MAX_CACHED_BYTES = 8 * 1024 * 1024;

interface CachedFile {
  version: string;
  body: Buffer;
  /** undefined = not made yet; null = gzip would not make it smaller. */
  gzipped?: Buffer | null;
}

export class StaticFiles {
  private readonly root: string;
  private readonly cache = new Map<string, CachedFile>();

  constructor(distDir: string) {
    this.root = resolve(distDir);
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return plain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return plain(res, 400, 'Bad request');
    }
    // Decoding happens before the path is checked, so `%2e%2e%2f` is caught
    // here as `../`. Dot segments and dotfiles are never served.
    const segments = decoded.split('/');
    if (decoded.includes('\0') || segments.some((s) => s.startsWith('.') && s !== '.well-known')) {
      return plain(res, 404, 'Not found');
    }
    // A path without an extension is a navigation inside the single-page app.
    if (extname(decoded) === '') return this.serveIndex(req, res);

    const file = join(this.root, decoded);
    if (!file.startsWith(this.root + sep)) return plain(res, 404, 'Not found');
    const served = await this.serveFile(req, res, file, decoded.startsWith('/assets/') ? IMMUTABLE : REVALIDATE);
    if (!served) plain(res, 404, 'Not found');
  }

  private async serveIndex(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const served = await this.serveFile(req, res, join(this.root, 'index.html'), REVALIDATE);
    if (!served) plain(res, 503, 'Build the app first: npm run build');
  }

  /** False when there is no such file. */
  private async serveFile(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): Promise<boolean> {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return false;

    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const compressible = COMPRESSIBLE.test(type);
    const version = `${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}`;
    const etag = `W/"${version}"`;
    const headers: Record<string, string> = {
      'Content-Type': type,
      'Cache-Control': cacheControl,
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
    };
    if (compressible) headers.Vary = 'Accept-Encoding';

    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    if (info.size > MAX_CACHED_BYTES) {
      res.writeHead(200, { ...headers, 'Content-Length': String(info.size) });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).on('error', () => res.destroy()).pipe(res);
      return true;
    }

    const cached = await this.load(file, version);
    let body = cached.body;
    if (compressible && acceptsGzip(req.headers['accept-encoding'])) {
      const gzipped = await this.gzipped(cached);
      if (gzipped) {
        body = gzipped;
        headers['Content-Encoding'] = 'gzip';
      }
    }
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private async load(file: string, version: string): Promise<CachedFile> {
    const cached = this.cache.get(file);
    if (cached?.version === version) return cached;
    const fresh: CachedFile = { version, body: await readFile(file) };
    this.cache.set(file, fresh);
    return fresh;
  }

  private async gzipped(file: CachedFile): Promise<Buffer | null> {
    if (file.gzipped === undefined) {
      const packed = await gzip(file.body, { level: 9 });
      file.gzipped = packed.length < file.body.length ? packed : null;
    }
    return file.gzipped;
  }
}

/** True if `gzip` (or `*`) is listed without q=0 (RFC 9110 §12.5.3). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(text)),
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(text);
}
