/**
 * Two (or three) real server processes on one real Redis act as one broker
 * (issue 7, "Scale out"): a room spans processes, its capacity holds across
 * them, Wills and retained presence cross them, and a process that dies
 * neither keeps its peers' places nor blocks their return through another
 * process.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientIdFor, peerTopic } from '../../protocol/index';
import { newPeerId } from '../helpers/peers';
import { closePeers, joinAt, testRoom, type TestPeer } from '../helpers/mqtt-peer';
import { findRedis, startRedis, type RedisServer } from '../helpers/redis';
import { waitFor } from '../helpers/wait';
import { ringAndDecline } from '../helpers/contacts';
import { startServer, type ServerProcess } from '../helpers/server';

const redisBinary = findRedis();
/** Short, so a dead process is noticed within a test; production default is 15 s. */
const SERVER_TTL_MS = 1500;
const OFFER = { type: 'offer' as const, sdp: offerSdp() };

describe.skipIf(redisBinary === null)('cluster on Redis (two server processes)', () => {
  let redis: RedisServer;
  let inspect: Redis;
  const processes: ServerProcess[] = [];
  let one: ServerProcess;
  let two: ServerProcess;

  const mqttUrl = (p: ServerProcess): string => `${p.url.replace(/^http/, 'ws')}/mqtt`;
  const start = async (): Promise<ServerProcess> => {
    const p = await startServer({ REDIS_URL: redis.url, SERVER_TTL_MS: String(SERVER_TTL_MS), LOG_LEVEL: 'info' });
    processes.push(p);
    return p;
  };
  /** The registry's server ids that Redis still lists (a dead one disappears once swept). */
  const servers = (): Promise<string[]> => inspect.smembers('tandem:servers');
  /** Polls Redis until `check` holds: the sweep is a background timer, there is no event to await. */
  const eventually = async (check: () => Promise<boolean>, what: string, timeoutMs = 4 * SERVER_TTL_MS): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50)); // poll interval, not a wait for an outcome
    }
  };

  beforeAll(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url);
    [one, two] = await Promise.all([start(), start()]);
  }, 60_000);

  afterEach(closePeers);

  afterAll(async () => {
    await closePeers();
    await Promise.all(processes.map((p) => p.stop()));
    inspect?.disconnect();
    await redis?.stop();
  }, 30_000);

  /** A on `at`, B on `bt`, both admitted, A's presence (with offer) seen by B. */
  async function pair(at: ServerProcess, bt: ServerProcess): Promise<{ a: TestPeer; b: TestPeer; room: Awaited<ReturnType<typeof testRoom>> }> {
    const room = await testRoom();
    const a = await joinAt(mqttUrl(at), room, newPeerId());
    expect(a.granted).toEqual([1, 1]);
    await a.publish({ type: 'presence', offer: OFFER });
    const b = await joinAt(mqttUrl(bt), room, newPeerId());
    expect(b.granted).toEqual([1, 1]);
    const presence = await b.next({ from: a.peer, kind: 'presence', empty: false });
    expect(presence.message).toMatchObject({ type: 'presence', offer: OFFER });
    return { a, b, room };
  }

  it('carries the join sequence across processes: retained presence, signals both ways', async () => {
    const { a, b } = await pair(one, two);
    // Subscribed after A published: the retained copy came out of Redis, through process 2.
    expect((await b.next({ from: a.peer, kind: 'presence' })).retain).toBe(true);

    await b.publish({ type: 'presence', offer: null });
    expect((await a.next({ from: b.peer, kind: 'presence' })).message).toMatchObject({ type: 'presence', offer: null });
    await b.publish({ type: 'description', to: { session: 'a-session', gen: 0 }, description: { type: 'answer', sdp: offerSdp() } });
    expect((await a.next({ from: b.peer, type: 'description' })).message).toMatchObject({ description: { type: 'answer' } });
    for (let i = 0; i < 10; i++) {
      await a.publish({ type: 'candidate', to: { session: 'b-session', gen: 0 }, candidate: candidate(i) });
    }
    await b.next({ from: a.peer, type: 'candidate' });
    await expect.poll(() => b.received.filter((d) => d.message?.type === 'candidate').length).toBe(10);
  });

  it('refuses a third peer on either process', async () => {
    const { room } = await pair(one, two);
    for (const p of [one, two]) {
      const third = await joinAt(mqttUrl(p), room, newPeerId());
      expect(third.granted).toEqual([128, 128]);
    }
  });

  it('admits exactly two when three peers race for one room across processes', async () => {
    const room = await testRoom();
    const peers = await Promise.all([one, two, one, two].map((p) => joinAt(mqttUrl(p), room, newPeerId())));
    expect(peers.filter((p) => p.granted[0] === 1)).toHaveLength(2);
  });

  it("delivers a peer's Will (presence cleared) to the other process and frees its place", async () => {
    const { a, b, room } = await pair(one, two);
    a.drop();
    await b.next({ from: a.peer, kind: 'presence', empty: true });
    const c = await joinAt(mqttUrl(two), room, newPeerId());
    expect(c.granted).toEqual([1, 1]);
  });

  it('lets a peer whose process was killed reconnect through the other one, as itself', async () => {
    const others = await servers();
    const doomed = await start();
    const doomedId = (await servers()).find((id) => !others.includes(id));
    const { a, b, room } = await pair(doomed, two);
    const staleWill = `will:${doomedId}:${encodeURIComponent(clientIdFor(room.room, a.peer))}`;
    expect(await inspect.exists(staleWill)).toBe(1);
    const closed = new Promise<void>((resolve) => a.client.once('close', () => resolve()));
    await doomed.stop('SIGKILL');
    await closed;

    // Right away, while Redis still counts the dead process as alive: its old place is recognised as its own.
    const back = await joinAt(mqttUrl(two), room, a.peer);
    expect(back.granted).toEqual([1, 1]);
    await back.publish({ type: 'presence', offer: OFFER });
    await b.next({ from: a.peer, kind: 'presence', empty: false, retain: false });
    await b.publish({ type: 'bye', to: null });
    await back.next({ from: b.peer, type: 'bye' });
    expect((await joinAt(mqttUrl(one), room, newPeerId())).granted).toEqual([128, 128]);
    // Aedes would publish the dead process's copy of A's Will minutes from now, over A's new presence.
    await eventually(async () => (await inspect.exists(staleWill)) === 0, "the dead process's Will of A to be dropped");

    // Once the dead process is swept, nothing of A's is undone: its stale Will was dropped at the takeover.
    await eventually(async () => !(await servers()).includes(doomedId!), 'the dead process to be swept');
    expect(await inspect.hexists(`tandem:retained:${room.room}`, peerTopic(room.room, a.peer, 'presence'))).toBe(1);
    expect(await inspect.hlen(`tandem:room:${room.room}`)).toBe(2);
    expect(b.received.filter((d) => d.from === a.peer && d.empty)).toEqual([]);
  }, 30_000);

  it('closes every connection of a process whose own heartbeat lapsed, so no room keeps more than two', async () => {
    const stalled = await start();
    const { a, b, room } = await pair(stalled, two);
    // A's place names the process that admitted it: "<serverId>:<room>.<peer>:<n>".
    const stalledId = (await inspect.hget(`tandem:room:${room.room}`, a.peer))?.split(':')[0];
    expect(await servers()).toContain(stalledId);
    // Its heartbeat key expires (as if Redis had been out of reach past the TTL);
    // the survivor may now free A's place while A is still connected to it.
    await inspect.del(`tandem:server:${stalledId!}`);
    await waitFor(a.client, 'close', { timeoutMs: 4 * SERVER_TTL_MS });
    // The log line is written before the close, but stdout and the socket are separate pipes: wait for it.
    await eventually(
      async () => stalled.output().includes('closing every connection so each takes its place again'),
      'the stalled process to log why it closed every connection',
    );
    // B, on the healthy process, keeps its connection.
    expect(b.client.connected).toBe(true);
  }, 30_000);

  it('rings a saved contact across processes: caller on one, callee on the other', async () => {
    await ringAndDecline(mqttUrl(one), mqttUrl(two));
  });

  it("frees a killed process's places within its TTL and clears its peers' presence", async () => {
    const doomed = await start();
    const { a, b, room } = await pair(doomed, two);
    await doomed.stop('SIGKILL');

    // Nobody reconnects as A: the sweep frees A's place and publishes the empty presence A's Will would have.
    await b.next({ from: a.peer, kind: 'presence', empty: true }, 4 * SERVER_TTL_MS);
    const c = await joinAt(mqttUrl(two), room, newPeerId());
    expect(c.granted).toEqual([1, 1]);
    expect(await inspect.hexists(`tandem:retained:${room.room}`, peerTopic(room.room, a.peer, 'presence'))).toBe(0);
  }, 30_000);
});

/** An offer-sized SDP (~3.5 KB) with the one sha-256 fingerprint the protocol requires. */
function offerSdp(): string {
  const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).padStart(2, '0').toUpperCase()).join(':');
  const lines = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1'];
  for (const mid of [0, 1]) {
    lines.push(mid === 0 ? 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126' : 'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 45 46');
    lines.push('c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx');
    lines.push(`a=fingerprint:sha-256 ${fingerprint}`, 'a=setup:actpass', `a=mid:${mid}`, 'a=sendrecv', 'a=rtcp-mux');
    for (let pt = 0; pt < 24; pt++) lines.push(`a=rtpmap:${96 + pt} VP8/90000`, `a=rtcp-fb:${96 + pt} nack pli`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function candidate(i: number): { candidate: string; sdpMid: string; sdpMLineIndex: number; usernameFragment: string } {
  return {
    candidate: `candidate:${1000 + i} 1 udp 2122260223 192.168.1.${i + 2} ${50000 + i} typ host generation 0 ufrag abcd network-id 1`,
    sdpMid: '0',
    sdpMLineIndex: 0,
    usernameFragment: 'abcd',
  };
}
