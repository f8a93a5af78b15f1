/**
 * GET /api/room (issue 16): the pre-join screen learns "the other person is
 * waiting" and "this call is full" before the camera opens. Against the real
 * server process and real mqtt.js clients taking places in the room.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RoomStatusEndpoint } from '../../broker/room-status';
import type { PeerId, RoomId } from '../../protocol/index';
import { closePeers, joinAt, testRoom } from '../helpers/mqtt-peer';
import { newPeerId } from '../helpers/peers';
import { startServer, type ServerProcess } from '../helpers/server';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());
afterEach(closePeers);

const mqttUrl = () => `${server.url.replace(/^http/, 'ws')}/mqtt`;

async function status(room: RoomId | string, peer: PeerId | string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${server.url}/api/room?room=${encodeURIComponent(room)}&peer=${encodeURIComponent(peer)}`, init);
  return { status: res.status, body: await res.json().catch(() => null), headers: res.headers };
}

/** The registry lets go of a place when the broker sees the disconnect, a moment after end() resolves. */
async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the room status to change');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('GET /api/room', () => {
  it('counts the others in the room, and says full when no place is left for the asker', async () => {
    const room = await testRoom();
    const [alice, bob, carol] = [newPeerId(), newPeerId(), newPeerId()];
    expect((await status(room.room, carol)).body).toEqual({ others: 0, full: false });

    const a = await joinAt(mqttUrl(), room, alice);
    expect(a.granted).not.toContain(128);
    // Bob, on the pre-join screen: Alice is waiting. Alice asking about herself (a reload) sees nobody else.
    expect((await status(room.room, bob)).body).toEqual({ others: 1, full: false });
    expect((await status(room.room, alice)).body).toEqual({ others: 0, full: false });

    await joinAt(mqttUrl(), room, bob);
    const third = await status(room.room, carol);
    expect(third.status).toBe(200);
    expect(third.body).toEqual({ others: 2, full: true });
    expect(third.headers.get('cache-control')).toBe('no-store');
    // A member asking (its tab reloaded) still has its place.
    expect((await status(room.room, bob)).body).toEqual({ others: 1, full: false });

    await a.end();
    await until(async () => ((await status(room.room, carol)).body as { others: number }).others === 1);
    expect((await status(room.room, carol)).body).toEqual({ others: 1, full: false });
  });

  it('refuses malformed ids and other methods, and answers nothing about other rooms', async () => {
    const room = await testRoom();
    expect(await status('not-a-room', newPeerId())).toMatchObject({ status: 400, body: { error: 'bad-request' } });
    expect(await status(room.room, 'x'.repeat(5000))).toMatchObject({ status: 400, body: { error: 'bad-request' } });
    expect((await fetch(`${server.url}/api/room`)).status).toBe(400);
    const post = await fetch(`${server.url}/api/room?room=${room.room}&peer=${newPeerId()}`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    // Someone in another room does not show up here.
    await joinAt(mqttUrl(), await testRoom(), newPeerId());
    expect((await status(room.room, newPeerId())).body).toEqual({ others: 0, full: false });
    expect(server.output()).not.toContain(room.room);
  });
});

describe('RoomStatusEndpoint limits', () => {
  let http: Server;
  let base = '';
  const served = (deps: Partial<ConstructorParameters<typeof RoomStatusEndpoint>[0]>) => {
    const endpoint = new RoomStatusEndpoint({ members: async () => [], clientAddress: () => '198.51.100.7', external: false, perMinute: 3, ...deps });
    http = createServer((req, res) => void endpoint.serve(req, res, req.url ?? '/'));
    return new Promise<void>((resolve) =>
      http.listen(0, '127.0.0.1', () => {
        base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
        resolve();
      }),
    );
  };
  afterEach(() => new Promise<void>((r) => http.close(() => r())));

  it('limits each address, and says Retry-After', async () => {
    await served({});
    const room = (await testRoom()).room;
    const url = `${base}/api/room?room=${room}&peer=${newPeerId()}`;
    for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(200);
    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('says so when signaling runs on another broker, whose rooms it cannot see', async () => {
    await served({ external: true });
    const res = await fetch(`${base}/api/room?room=${(await testRoom()).room}&peer=${newPeerId()}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'external-broker' });
  });
});
