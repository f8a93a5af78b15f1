/** Requests to POST /api/push for tests/broker/push.test.ts: node:http, so a test can pick its client address. */
import { request } from 'node:http';
import type { TestSubscription } from './push-service';
import type { ServerProcess } from './server';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | null;
}

export interface PostOptions {
  contentType?: string;
  localAddress?: string;
  method?: string;
}

export function send(server: ServerProcess, body: string | Buffer, options: PostOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/api/push',
        method: options.method ?? 'POST',
        localAddress: options.localAddress ?? '127.0.0.1',
        headers: { 'Content-Type': options.contentType ?? 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let parsed: Record<string, unknown> | null = null;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON: left null, the assertions will say so
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface PushBody {
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
  payload: string;
  ttl?: unknown;
  topic?: unknown;
}

export function pushBody(endpoint: string, sub: TestSubscription, payload: Buffer, extra: Partial<PushBody> = {}): PushBody {
  return { subscription: { endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, payload: payload.toString('base64url'), ...extra };
}

export const post = (server: ServerProcess, body: unknown, options: PostOptions = {}): Promise<Reply> => send(server, JSON.stringify(body), options);
