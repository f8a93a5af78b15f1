/**
 * A stand-in for a browser's push service (RFC 8030) and a browser's side of
 * a subscription, written from the RFCs with node:crypto alone, so that what
 * the server produced through the `web-push` library is checked by code that
 * shares nothing with it:
 *   - `startPushService`: an http endpoint on 127.0.0.1 that records each
 *     push and answers by path (/gone/… 410, /missing/… 404, /fail/… 500,
 *     /hang/… never; anything else 201);
 *   - `newSubscription`: a P-256 key pair and a 16-byte auth secret, as
 *     pushManager.subscribe() makes them;
 *   - `decryptPush`: RFC 8291 (aes128gcm, RFC 8188) decryption with them;
 *   - `verifyVapid`: RFC 8292's `Authorization: vapid t=<JWT>, k=<key>`,
 *     with the ES256 signature checked against the given public key.
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPush {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface PushService {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  received: ReceivedPush[];
  /** Emits 'push' (ReceivedPush) when a request has been read. */
  events: EventEmitter;
  close(): Promise<void>;
}

const STATUS_BY_PREFIX: ReadonlyArray<[string, number]> = [
  ['/gone/', 410],
  ['/missing/', 404],
  ['/fail/', 500],
];

export async function startPushService(): Promise<PushService> {
  const received: ReceivedPush[] = [];
  const events = new EventEmitter();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const push = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(push);
      events.emit('push', push);
      if (push.path.startsWith('/hang/')) {
        hanging.add(res);
        return;
      }
      const status = STATUS_BY_PREFIX.find(([prefix]) => push.path.startsWith(prefix))?.[1] ?? 201;
      res.writeHead(status, status === 201 ? { Location: `/message/${received.length}` } : {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    received,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TestSubscription {
  ecdh: ECDH;
  /** base64url, as PushSubscription.toJSON() has them. */
  p256dh: string;
  auth: string;
  authSecret: Buffer;
}

export function newSubscription(): TestSubscription {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return { ecdh, p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url'), authSecret };
}

const info = (text: string): Buffer => Buffer.from(`${text}\0`, 'latin1');

/** RFC 8291 §3.4 + RFC 8188 §2: one record (push messages are at most 4096 bytes), padding delimiter 0x02. */
export function decryptPush(body: Buffer, sub: TestSubscription): Buffer {
  // RFC 8188 §2.1 header: salt(16) | rs(4) | idlen(1) | keyid(idlen)
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body.readUInt8(20);
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  if (idlen !== 65) throw new Error(`keyid must be the sender's 65-byte P-256 key, got ${idlen} bytes`);
  if (record.length > rs) throw new Error(`more than one record (${record.length} > rs ${rs})`);
  const uaPublic = sub.ecdh.getPublicKey();
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  // RFC 8291 §3.3/3.4: IKM from the ECDH secret, keyed by the auth secret and both public keys.
  const keyInfo = Buffer.concat([info('WebPush: info'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, sub.authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, info('Content-Encoding: aes128gcm'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, info('Content-Encoding: nonce'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 0x02) throw new Error('missing the last-record padding delimiter (0x02)');
  return padded.subarray(0, end);
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/** Parses `vapid t=<JWT>, k=<key>`, checks k is `publicKey` and the ES256 signature; returns the claims. */
export function verifyVapid(authorization: string | undefined, publicKey: string): VapidClaims {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(authorization ?? '');
  if (!match) throw new Error(`not a VAPID Authorization header: ${authorization}`);
  const [, jwt = '', k] = match;
  if (k !== publicKey) throw new Error('k is not the server’s public key');
  const [header = '', claims = '', signature = ''] = jwt.split('.');
  if (JSON.parse(Buffer.from(header, 'base64url').toString()).alg !== 'ES256') throw new Error('alg is not ES256');
  const point = Buffer.from(publicKey, 'base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  // JWS ES256 signatures are r || s (RFC 7518 §3.4), not DER.
  const ok = verify('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!ok) throw new Error('the VAPID JWT signature does not verify');
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as VapidClaims;
}
