/**
 * What the controller does when things go wrong, with the real server
 * in-process, real mqtt.js and fake WebRTC: bad links, refused cameras,
 * offline starts, cut networks, a server that stays away, and leaving.
 */
import { describe, expect, it } from 'vitest';
import { CallError } from '../../app/call/errors';
import { fetchClientConfig, waitForServer } from '../../app/signaling/config';
import { createReconnectPolicy } from '../../app/signaling/reconnect';
import { callTestbed, kinds, state, until, type Party } from '../helpers/call-harness';

const t = callTestbed();
const { open, pcOf, connectedPair } = t;

describe('failures a person can meet', () => {
  it('a damaged link says so, through the state machine, without touching the server', async () => {
    const p = open('x', { secret: 'not-a-secret' });
    await state(p, 'error');
    expect(p.call.view).toMatchObject({ error: 'invalid-link', phase: 'call' });
    expect(p.signaling()).toBeNull();
  });

  it('a refused camera says what to do, and the connection to the server is given back', async () => {
    const p = open('x', { overrides: { openMedia: async () => Promise.reject(CallError.permissionDenied()) } });
    await state(p, 'error');
    expect(p.call.view.error).toBe('permission-denied');
    await until(p, () => p.signaling()?.status !== 'connected', 'signaling closed');
  });

  it('opened offline: the preview shows, Join waits, and the call works once the server answers', async () => {
    let online = false;
    let wake: () => void = () => undefined;
    const p = open('bob', {
      overrides: {
        fetchConfig: async () => (online ? { brokerUrl: t.server.mqttUrl, iceServers: [], relay: false, vapidPublicKey: null } : Promise.reject(new TypeError('Failed to fetch'))),
        onceOnline: () => new Promise<void>((resolve) => (wake = resolve)),
      },
    });
    await until(p, (v) => v.offline && v.phase === 'prejoin' && v.localStream !== null, 'the offline pre-join screen');
    online = true;
    wake();
    await until(p, (v) => !v.offline && v.signaling === 'ready', 'online, not yet in the room');
    p.call.join();
    await until(p, (v) => v.signaling === 'connected', 'in the room');
    await t.clock.advance(250); // nobody's retained offer came: start as the one who waits
    await state(p, 'waiting');
  });

  it('a server that stays away: the policy gives up and the person gets a message (not endless spinning)', async () => {
    const p = open('bob', { reconnectPolicy: createReconnectPolicy({ giveUpAfterMs: 5_000 }) });
    await until(p, (v) => v.phase === 'prejoin' && v.signaling === 'ready', 'prejoin');
    await t.server.close();
    await until(p, (v) => v.signaling === 'reconnecting', 'reconnecting');
    for (let i = 0; i < 20 && p.call.view.state !== 'error'; i++) {
      await t.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 20)); // let each refused attempt come back
    }
    expect(p.call.view).toMatchObject({ state: 'error', error: 'signaling-unreachable', signaling: 'failed' });
  });

  it('a call whose media still flows goes on when signaling gives up', async () => {
    const policy = createReconnectPolicy({ giveUpAfterMs: 3_000 });
    const [alice] = await connectedPair({ reconnectPolicy: policy });
    await t.server.close();
    for (let i = 0; i < 20 && t.parties[1]!.call.view.signaling !== 'failed'; i++) {
      await t.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(t.parties[1]!.call.view).toMatchObject({ signaling: 'failed', state: 'connected' });
    expect(alice.call.view.state).toBe('connected');
  });
});

describe('recovery and controls', () => {
  it('a cut network: reconnecting, an ICE restart from the fixed side once the grace ends, connected again', async () => {
    const [alice, bob] = await connectedPair();
    const [pa, pb] = [pcOf(alice)!, pcOf(bob)!];
    t.net.cutNetwork(pa, pb);
    await Promise.all([state(alice, 'reconnecting'), state(bob, 'reconnecting')]);
    expect([pa.connectionState, pb.connectionState]).toEqual(['disconnected', 'disconnected']);
    const offers = () => [...kinds(alice), ...kinds(bob)].filter((k) => k === 'offer').length;
    const offersBefore = offers();
    await t.clock.advance(2_000); // the disconnect grace: the impolite side restarts ICE (signaling still works)
    await until(alice, () => offers() === offersBefore + 1 && pa.signalingState === 'stable' && pb.signalingState === 'stable', 'one ICE restart negotiated');
    // Its new credentials work once the path is back.
    t.net.restoreNetwork(pa, pb);
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    expect(offers()).toBe(offersBefore + 1);
    expect(pcOf(alice)).toBe(pa); // an ICE restart, not a new connection
  });

  it('a new network path (wifi to cellular) restarts ICE under a live call without leaving connected', async () => {
    const [alice, bob] = await connectedPair();
    const before = alice.states.length;
    const negotiations = alice.call.view.negotiations;
    alice.env.fire('network-type');
    await until(alice, (v) => v.negotiations > negotiations, 'an ICE restart offer');
    await until(bob, () => pcOf(bob)?.remoteUfrag === pcOf(alice)?.localUfrag, 'the new credentials applied');
    expect(alice.states.slice(before)).toEqual([]);
    alice.env.fire('offline'); // nothing to restart over: only checks
    alice.env.fire('visible');
    expect(alice.counts.wakeLockAgain).toBe(1);
  });

  it('mute and camera off reach the other side; the OS call controls act on the call', async () => {
    const [alice, bob] = await connectedPair();
    expect(bob.counts.wakeLock).toBeGreaterThan(0);
    bob.osControls.current!.toggleMicrophone();
    await until(alice, (v) => v.remoteMedia?.audioMuted === true, 'Bob muted');
    bob.osControls.current!.toggleCamera();
    await until(alice, (v) => v.remoteMedia?.videoOff === true, 'Bob camera off');
    expect(bob.call.view.media).toMatchObject({ muted: true, cameraOff: true });
    bob.osControls.current!.hangup();
    await until(alice, (v) => v.state === 'waiting', 'Bob gone');
    expect(bob.call.view.state).toBe('ended');
    bob.call.close();
    expect(bob.osControls.current).toBeNull();
    expect(bob.counts.wakeLock).toBe(0);
    expect(bob.env.listeners).toBe(0);
  });

  it('joining with the camera off negotiates a video section anyway, so turning it on needs no new offer', async () => {
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    const bob = open('bob');
    await until(bob, (v) => v.phase === 'prejoin' && v.media !== null, 'prejoin');
    await bob.call.media!.toggleCamera();
    bob.call.join();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    await until(alice, (v) => v.remoteMedia?.videoOff === true, 'camera-off placeholder');
    expect(pcOf(bob)!.getTransceivers().map((x) => x.receiver.track.kind)).toEqual(['audio', 'video']);
  });

  it('hang-up with the server gone still ends the call at once (the Will clears our presence later)', async () => {
    const [, bob] = await connectedPair();
    await t.server.close();
    const done = bob.call.hangup();
    await t.clock.advance(1_500);
    await t.clock.advance(1_000);
    await done;
    expect(bob.call.view.state).toBe('ended');
  });

  it('a page that goes away (tab closed, Back) says bye at once: the other side is waiting again, no ICE timeout', async () => {
    const [alice, bob] = await connectedPair();
    bob.env.fire('pagehide');
    // No clock advance: only the bye can end the call for Alice; ICE timeouts would need seconds of fake time.
    await until(alice, (v) => v.state === 'waiting' && v.remoteLeft, 'the other person left');
  });
});

describe('verification code over a call', () => {
  const codeOf = (p: Party) => p.call.view.code?.join('') ?? null;

  it('an honest rebuild (a fresh connection after a long outage) keeps the code: same certificate, no warning', async () => {
    const [alice, bob] = await connectedPair();
    await until(alice, (v) => v.code !== null && v.verification === 'ready', 'a code');
    await until(bob, (v) => v.code !== null, 'a code');
    const code = codeOf(alice);
    expect(codeOf(bob)).toBe(code);
    const [pa, pb] = [pcOf(alice)!, pcOf(bob)!];
    t.net.cutNetwork(pa, pb);
    await Promise.all([state(alice, 'reconnecting'), state(bob, 'reconnecting')]);
    t.net.failCut();
    await t.clock.advance(61_000); // ICE restarts fail; after 60 s the machine builds a fresh connection
    await until(alice, () => pcOf(alice) !== pa, 'a rebuilt connection');
    t.net.restoreNetwork(pa, pb);
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    expect(pcOf(alice)!.fingerprint).toBe(pa.fingerprint);
    expect([alice.call.view.verification, bob.call.view.verification]).toEqual(['ready', 'ready']);
    expect([codeOf(alice), codeOf(bob)]).toEqual([code, code]);
  });

  it('the other side reloads (a new certificate): the code changes and is flagged on the side that had compared it', async () => {
    const [alice, bob] = await connectedPair();
    await until(alice, (v) => v.code !== null && v.verification === 'ready', 'a code');
    const first = codeOf(alice);
    bob.call.close();
    const bob2 = open('bob2', { storage: bob.storage });
    await Promise.all([state(bob2, 'connected'), until(alice, (v) => v.verification === 'changed' && v.code !== null, 'a flagged new code')]);
    await until(bob2, (v) => v.code !== null, 'a code');
    expect(codeOf(alice)).not.toBe(first);
    expect(codeOf(alice)).toBe(codeOf(bob2));
  });

  it('a message from an app of another protocol version: a clear message, not a silent wait', async () => {
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    // Bob's app is older: its messages say v 1. The page can open them (same link), so it knows.
    const bob = open('bob');
    await until(bob, (v) => v.phase === 'prejoin', 'prejoin');
    const sig = () => bob.signaling() as unknown as { send(m: unknown): Promise<void> };
    const send = sig().send.bind(sig());
    sig().send = (m) => send({ ...(m as object), v: 1 });
    bob.call.join();
    await state(alice, 'error');
    expect(alice.call.view.error).toBe('peer-outdated');
  });
});

describe('server contact', () => {
  it('reads /config.json (same-origin broker by default) and waits for /healthz on the injected policy', async () => {
    const get: typeof fetch = (url, init) => fetch(`${t.server.url}${String(url)}`, init);
    const config = await fetchClientConfig(t.server.url, get);
    expect(config.brokerUrl).toBe(t.server.mqttUrl);
    let up = false;
    let wakeups = 0;
    let misses = 0;
    const ready = waitForServer(t.clock, (fn) => {
      wakeups++;
      if (wakeups === 2) setTimeout(fn, 0); // the `online` event, second time round
      return () => undefined;
    }, { get: (url, init) => (up ? get(url, init) : Promise.reject(new TypeError('offline'))), onMiss: () => misses++ });
    await new Promise((r) => setTimeout(r, 10));
    await t.clock.advance(1_000); // first retry after 1 s
    up = true;
    await ready;
    expect(wakeups).toBe(2);
    expect(misses).toBe(2); // the first probe, and the one after the 1 s wait
    await expect(fetchClientConfig(t.server.url, async () => new Response('', { status: 503 }))).rejects.toThrow('config 503');
    const never = { nextDelay: () => null };
    await expect(waitForServer(t.clock, () => () => undefined, { policy: never, get: async () => Promise.reject(new Error('x')) })).rejects.toThrow('server unreachable');
  });
});
