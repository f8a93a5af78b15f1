/**
 * What operators see of a call, from the real server process: /metrics moves
 * when people join, talk and ask for TURN, and the JSON log of a whole
 * signaling exchange holds no call secret, no SDP and no TURN credential.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey, deriveRoomId, newSecret, type Secret } from '../../protocol/index';
import { newPeerId } from '../helpers/peers';
import { subscribeRefused } from '../helpers/broker';
import { closePeers, connectAt, joinAt, type TestPeer, type TestRoom } from '../helpers/mqtt-peer';
import { metricsHeaders, startServer, type ServerProcess } from '../helpers/server';

/** One sample of the exposition text, e.g. sample(text, 'tandem_refused_total{reason="room-full"}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

describe('a call, as /metrics and the log see it', () => {
  const turnSecret = randomBytes(24).toString('hex');
  let server: ServerProcess;
  let callSecret: Secret;
  let room: TestRoom;

  // A fake offer shaped like Chromium's, with the call secret planted in it:
  // it travels sealed, so none of it may surface in the server's output.
  const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')).join(':');
  const sdp = (secret: string): string =>
    [
      'v=0',
      'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
      `s=${secret}`,
      't=0 0',
      'a=group:BUNDLE 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 0.0.0.0',
      `a=fingerprint:sha-256 ${fingerprint}`,
      'a=setup:actpass',
      'a=mid:0',
      '',
    ].join('\r\n');

  beforeAll(async () => {
    callSecret = newSecret();
    room = { room: await deriveRoomId(callSecret), key: await deriveKey(callSecret) };
    server = await startServer({ TURN_URLS: 'turn:127.0.0.1:3478?transport=udp', TURN_SECRET: turnSecret });
  });
  afterAll(async () => {
    await closePeers();
    await server?.stop();
  });

  const metrics = async (): Promise<string> => {
    const res = await fetch(`${server.url}/metrics`, { headers: metricsHeaders });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };

  let alice: TestPeer;
  let bob: TestPeer;
  let credential = '';

  it('exposes the tandem counters and the process metrics, at zero before anyone joins', async () => {
    const text = await metrics();
    for (const name of [
      'tandem_clients_connected',
      'tandem_rooms_active',
      'tandem_messages_relayed_total',
      'tandem_refused_total',
      'tandem_connections_closed_total',
      'tandem_turn_credentials_issued_total',
      'tandem_ice_refused_total',
      // collectDefaultMetrics
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'tandem_clients_connected')).toBe(0);
    expect(sample(text, 'tandem_rooms_active')).toBe(0);
    expect(sample(text, 'tandem_messages_relayed_total')).toBe(0);
    expect(sample(text, 'tandem_turn_credentials_issued_total')).toBe(0);
    expect(sample(text, 'tandem_refused_total{reason="subscribe-filter"}')).toBe(0);
  });

  it('counts the two callers and their room once they join', async () => {
    const url = `ws://127.0.0.1:${server.port}/mqtt`;
    alice = await joinAt(url, room, newPeerId());
    bob = await joinAt(url, room, newPeerId());
    expect([alice.granted, bob.granted]).toEqual([[1, 1], [1, 1]]);
    const text = await metrics();
    expect(sample(text, 'tandem_clients_connected')).toBe(2);
    expect(sample(text, 'tandem_rooms_active')).toBe(1);
  });

  it('relays a sealed offer, answer and candidate, and counts them', async () => {
    await alice.publish({ type: 'presence', offer: { type: 'offer', sdp: sdp(callSecret) } });
    const offer = await bob.next({ from: alice.peer, type: 'presence' });
    expect(offer.message?.type === 'presence' && offer.message.offer?.sdp).toBe(sdp(callSecret));

    const to = { session: offer.message?.session ?? '', gen: 0 };
    await bob.publish({ type: 'description', to, description: { type: 'answer', sdp: sdp(`${callSecret}-answer`) } });
    await alice.next({ from: bob.peer, type: 'description' });
    const candidate = `candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host generation 0 ufrag ${callSecret}`;
    await alice.publish({ type: 'candidate', to, candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null } });
    const got = await bob.next({ from: alice.peer, type: 'candidate' });
    expect(got.message?.type === 'candidate' && got.message.candidate.candidate).toBe(candidate);

    expect(sample(await metrics(), 'tandem_messages_relayed_total')).toBeGreaterThanOrEqual(3);
  });

  it('counts refusals by reason', async () => {
    // A third client of the room, not bob: the broker closes whoever asks for a foreign filter.
    const carol = await connectAt(`ws://127.0.0.1:${server.port}/mqtt`, room, newPeerId());
    expect(await subscribeRefused(carol.client, '#')).toBeNull();
    const res = await fetch(`${server.url}/api/ice?client=nobody`);
    expect(res.status).toBe(403);
    const text = await metrics();
    expect(sample(text, 'tandem_refused_total{reason="subscribe-filter"}')).toBe(1);
    expect(sample(text, 'tandem_ice_refused_total{reason="not-in-call"}')).toBe(1);
  });

  it('counts a TURN credential handed to a caller', async () => {
    const res = await fetch(`${server.url}/api/ice?client=${encodeURIComponent(alice.client.options.clientId ?? '')}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { iceServers: Array<{ credential?: string }> };
    credential = body.iceServers.find((s) => s.credential)?.credential ?? '';
    expect(credential).not.toBe('');
    expect(sample(await metrics(), 'tandem_turn_credentials_issued_total')).toBe(1);
  });

  it('logs the call without the secret, the SDP or the TURN credential', async () => {
    // Hang up first, so the log covers the whole call, leave included.
    const left = alice.next({ from: bob.peer, kind: 'presence', empty: true });
    await bob.end();
    await left;
    await alice.end();
    await server.stop();

    const out = server.output();
    // The log is not empty: the test would pass vacuously otherwise (LOG_LEVEL=debug).
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    // The client appears with its room id replaced by a keyed hash (issue 11: a room id lets a log reader squat it).
    expect(out).toMatch(new RegExp(`"clientId":"r:[0-9a-f]{12}\\.${alice.peer}"`));

    for (const forbidden of [room.room, callSecret, 'a=fingerprint', 'v=0', fingerprint, 'candidate:', credential, turnSecret]) {
      expect(out, `log contains ${forbidden}`).not.toContain(forbidden);
    }
  });
});
