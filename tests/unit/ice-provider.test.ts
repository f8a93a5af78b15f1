import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIceProvider } from '../../app/signaling/ice';

/** A fetch that answers from a queue of responses, recording each request. */
function fakeFetch(responses: Array<Response | Error>) {
  const calls: string[] = [];
  const fn = vi.fn(async (url: string) => {
    calls.push(url);
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    if (next instanceof Error) throw next;
    return next;
  });
  vi.stubGlobal('fetch', fn);
  return calls;
}

const turn = (ttl: number, expiresAt = Date.now() + ttl * 1000) =>
  new Response(JSON.stringify({ iceServers: [{ urls: ['stun:s'] }, { urls: ['turn:t'], username: `${ttl}:x`, credential: 'c' }], expiresAt, ttl }), { status: 200 });
const stunOnly = () => new Response(JSON.stringify({ iceServers: [{ urls: ['stun:s'] }], expiresAt: null, ttl: null }), { status: 200 });
const status = (code: number, headers: Record<string, string> = {}) => new Response('{}', { status: code, headers });

describe('ICE server provider', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('refreshes TURN credentials 5 minutes before they expire, and applies them to the live call', async () => {
    const calls = fakeFetch([turn(3600), turn(3600)]);
    const updates: string[] = [];
    const p = createIceProvider('room.peer', [], (s) => updates.push(String(s[1]?.username)));
    await p.refresh();
    expect(updates).toEqual(['3600:x']);
    await vi.advanceTimersByTimeAsync(55 * 60_000 - 1);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect(updates).toHaveLength(2);
    p.stop();
  });

  it('trusts the relative TTL over a client clock that is an hour off', async () => {
    // expiresAt says "already expired" by this client's clock; ttl says an hour from now.
    const calls = fakeFetch([turn(3600, Date.now() - 3600_000), turn(3600)]);
    const p = createIceProvider('room.peer', [], () => undefined);
    await p.refresh();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toHaveLength(1); // not hammering the server every 5 s
    p.stop();
  });

  it('retries a refused or failed refresh (429 with Retry-After, then a network error) instead of keeping expired credentials', async () => {
    const calls = fakeFetch([turn(600), status(429, { 'Retry-After': '7' }), new Error('offline'), turn(600)]);
    const p = createIceProvider('room.peer', [], () => undefined);
    await p.refresh();
    await vi.advanceTimersByTimeAsync(300_000); // 600 s TTL: refresh at half-life
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(7_000); // Retry-After
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(30_000); // the network error's retry
    expect(calls).toHaveLength(4);
    expect(p.current()[1]).toMatchObject({ username: '600:x' });
    p.stop();
  });

  it('without TURN (STUN only, or a broker that is not ours) never polls', async () => {
    const calls = fakeFetch([stunOnly(), status(404)]);
    const p = createIceProvider('room.peer', [{ urls: 'stun:fallback' }], () => undefined);
    await p.refresh();
    await p.refresh();
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(calls).toHaveLength(2);
    expect(p.current()).toEqual([{ urls: ['stun:s'] }]);
  });

  it('stops refreshing after stop()', async () => {
    const calls = fakeFetch([turn(600)]);
    const p = createIceProvider('room.peer', [], () => undefined);
    await p.refresh();
    p.stop();
    await vi.advanceTimersByTimeAsync(3600_000);
    expect(calls).toHaveLength(1);
  });
});
