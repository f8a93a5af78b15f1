/**
 * Whole calls through the controller: two (or three) `Call`s, fake
 * RTCPeerConnections, and the real server in-process with real mqtt.js
 * clients. The controllers' timers run on a fake clock. Each test asserts the
 * states both sides pass through and the messages they send, which is what
 * the binding rules (session.ts: arrive, onPresence, onDescription) decide.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/broker';
import { createIceProvider } from '../../app/signaling/ice';
import { callTestbed, FakeClock, kinds, MemoryStorage, state, until } from '../helpers/call-harness';

const t = callTestbed();
const { open, pcOf, connectedPair } = t;

describe('a call through the controller', () => {
  it('an ordinary call: waiting, then connecting, then connected on both sides', async () => {
    const [alice, bob] = await connectedPair();
    expect(alice.states).toEqual(['connecting', 'waiting', 'connecting', 'connected']);
    // The joiner's start() runs in one batch: it never shows `waiting` (no waiting panel on the way in).
    expect(bob.states).toEqual(['connecting', 'connected']);
    // Alice published her offer retained (again once candidates were in it), then answered nothing: Bob answered her offer.
    expect(kinds(alice).slice(0, 2)).toEqual(['presence+offer', 'presence+offer']);
    // Bob announced himself (presence without an offer) and answered her offer.
    expect(kinds(bob).slice(0, 2).sort()).toEqual(['answer', 'presence']);
    expect(kinds(alice)).not.toContain('answer');
    expect(alice.call.view.phase).toBe('call');
    expect(bob.call.view.remoteStream).not.toBeNull();
    expect(bob.call.view.negotiations).toBe(1);
    // The verification code appears once both descriptions are known, the same on both sides.
    await t.clock.advance(1_000);
    await until(alice, (v) => v.code !== null, 'a verification code');
    await until(bob, (v) => v.code !== null, 'a verification code');
    expect(alice.call.view.code).toEqual(bob.call.view.code);
  });

  it('both tap Join at once: one connection each, both connected', async () => {
    const alice = open('alice');
    const bob = open('bob');
    await Promise.all([until(alice, (v) => v.phase === 'prejoin', 'prejoin'), until(bob, (v) => v.phase === 'prejoin', 'prejoin')]);
    alice.call.join();
    bob.call.join();
    // Each waits a moment for a retained offer after its SUBACK; then both start at once.
    await Promise.all([until(alice, (v) => v.signaling === 'connected', 'in the room'), until(bob, (v) => v.signaling === 'connected', 'in the room')]);
    await t.clock.advance(250);
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    // Exactly one of them answered the other's offer on the live connection.
    const answers = [...kinds(alice), ...kinds(bob)].filter((k) => k === 'answer');
    expect(answers.length).toBeGreaterThanOrEqual(1);
    expect(pcOf(alice)?.connectionState).toBe('connected');
    expect(pcOf(bob)?.connectionState).toBe('connected');
  });

  it('a reload on either side comes straight back into the call (no pre-join screen)', async () => {
    const [alice, bob] = await connectedPair();
    // Bob reloads: the page goes away without hanging up; the same tab storage opens the link again.
    bob.env.fire('pagehide');
    bob.call.close();
    const bob2 = open('bob2', { storage: bob.storage });
    await Promise.all([state(bob2, 'connected'), state(alice, 'connected')]);
    expect(bob2.states).not.toContain('error');
    expect(bob2.call.view.phase).toBe('call');
    // The reloaded side always offers (directly, or retained if Alice's presence hadn't arrived yet); Alice answers on a fresh connection.
    expect(kinds(bob2).some((k) => k === 'offer' || k === 'presence+offer')).toBe(true);
    expect(kinds(alice)).toContain('answer');
    await until(alice, () => pcOf(alice)?.connectionState === 'connected', 'a connected pc');

    // Now Alice reloads.
    alice.call.close();
    const alice2 = open('alice2', { storage: alice.storage });
    await Promise.all([state(alice2, 'connected'), until(bob2, () => pcOf(bob2)?.connectionState === 'connected' && bob2.call.view.state === 'connected', 'connected again')]);
    expect(alice2.call.view.phase).toBe('call');
  });

  it('a takeover by the same peer id (the tab duplicated) replaces the old page, never a third person', async () => {
    const [alice, bob] = await connectedPair();
    const copy = new MemoryStorage();
    const before = alice.states.length;
    for (const [k, v] of bob.storage.map) copy.setItem(k, v);
    const bobTab2 = open('bob-tab2', { storage: copy });
    await Promise.all([state(bobTab2, 'connected'), until(alice, (v) => alice.states.length > before && v.state === 'connected', 'connected to the new tab')]);
    expect(bobTab2.states).not.toContain('full');
    // Alice passed through `connecting` once (a fresh connection to the new page), never `waiting` or an error.
    expect(alice.states.slice(before)).toEqual(['connecting', 'connected']);
    // The old tab lost its place to the new one (MQTT client-id takeover) and knows it.
    await until(bob, (v) => v.signaling === 'reconnecting', 'the old tab disconnected');
  });

  it('a broker restart: signaling reconnects within the policy cap and the call never leaves connected', async () => {
    const [alice, bob] = await connectedPair();
    const port = t.server.port;
    const before = alice.states.length;
    await t.server.close();
    await Promise.all([until(alice, (v) => v.signaling === 'reconnecting', 'reconnecting'), until(bob, (v) => v.signaling === 'reconnecting', 'reconnecting')]);
    t.server = await startTestServer({ port });
    // However many attempts failed meanwhile, the next one is at most 1.8 s away.
    for (let i = 0; i < 10 && (alice.call.view.signaling !== 'connected' || bob.call.view.signaling !== 'connected'); i++) {
      await t.clock.advance(1_800);
      await Promise.race([Promise.all([until(alice, (v) => v.signaling === 'connected', 'back', 1_000), until(bob, (v) => v.signaling === 'connected', 'back', 1_000)]), new Promise((r) => setTimeout(r, 1_000))]).catch(() => undefined);
    }
    expect(alice.call.view.signaling).toBe('connected');
    expect(bob.call.view.signaling).toBe('connected');
    expect(alice.states.slice(before)).toEqual([]);
    expect(bob.call.view.state).toBe('connected');
    // Each said again who it is (the restarted broker lost the retained presence).
    expect(kinds(alice).at(-2) === 'presence' || kinds(alice).at(-1) === 'presence' || kinds(alice).includes('media')).toBe(true);
  });

  it('a late candidate: the offer went out without candidates and they trickle in after the answer', async () => {
    t.net.holdCandidates = true;
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    const bob = open('bob');
    await until(bob, (v) => v.phase === 'prejoin', 'prejoin');
    bob.call.join();
    await state(bob, 'connecting');
    await until(alice, (v) => v.state === 'connecting', 'connecting');
    // Nobody has a candidate of the other: ICE can't succeed yet.
    expect(pcOf(alice)?.connectionState).not.toBe('connected');
    t.net.releaseCandidates();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    expect(alice.sent.filter((m) => m.type === 'candidate').length).toBeGreaterThan(0);
  });

  it('a stale answer from a replaced connection is dropped; the new negotiation connects', async () => {
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    const bob = open('bob', { clock: new FakeClock() }); // only Alice's time moves
    await until(bob, (v) => v.phase === 'prejoin', 'prejoin');
    // Bob's first answer is held on the way (a slow network)...
    const release = bob.holdSends((m) => m.type === 'description' && m.description.type === 'answer' && m.to.gen === 1);
    bob.call.join();
    await state(alice, 'connecting');
    // ...until Alice's connect timeout rebuilds her connection (generation 2) halfway.
    const firstPc = pcOf(alice)!;
    await t.clock.advance(10_000);
    await until(alice, () => pcOf(alice) !== firstPc && pcOf(alice) !== undefined, 'a rebuilt connection');
    const rebuilt = pcOf(alice)!;
    await release();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    // The held answer named generation 1: it never reached the rebuilt connection.
    const stale = bob.sent.find((m) => m.type === 'description' && m.description.type === 'answer' && m.to.gen === 1);
    expect(stale).toBeDefined();
    expect(rebuilt.appliedRemote).not.toContain(stale!.type === 'description' ? stale!.description.sdp : '');
  });

  it('hang-up, then a new joiner: the one left waits again, then connects to the newcomer', async () => {
    const [alice, bob] = await connectedPair();
    await bob.call.hangup();
    expect(bob.call.view.state).toBe('ended');
    expect(kinds(bob).at(-1)).toBe('bye');
    await until(alice, (v) => v.state === 'waiting' && v.remoteLeft, 'waiting, the other person left');
    expect(alice.call.view.remoteStream).toBeNull();
    const carol = open('carol');
    await until(carol, (v) => v.phase === 'prejoin', 'prejoin');
    carol.call.join();
    await Promise.all([state(carol, 'connected'), state(alice, 'connected')]);
    expect(alice.states.slice(-3)).toEqual(['waiting', 'connecting', 'connected']);
  });

  it('Join asks for the TURN credentials with its SUBSCRIBE: one request, held by the server until the room admits it, answered', async () => {
    const asked: Array<{ url: string; status: number }> = [];
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    await until(alice, () => alice.sent.some((m) => m.type === 'presence' && m.offer?.sdp.includes('a=candidate')), 'a retained offer with candidates');
    // The broker has finished Bob's CONNECT by the time a person taps Join (here: at once, so wait for it).
    const bobReady = once(t.server.broker, 'clientReady');
    const bob = open('bob', {
      overrides: {
        createIceProvider: (clientId, fallback, onUpdate) =>
          createIceProvider(clientId, fallback, onUpdate, {
            clock: t.clock,
            fetch: async (url, init) => {
              const res = await fetch(`${t.server.url}${String(url)}`, init);
              asked.push({ url: String(url), status: res.status });
              return res;
            },
          }),
      },
    });
    await until(bob, (v) => v.phase === 'prejoin', 'the pre-join screen');
    await bobReady;
    bob.call.join();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    // Not a second request after the SUBACK: that round trip is what wait=1 saves.
    expect(asked).toEqual([{ url: expect.stringMatching(/^\/api\/ice\?client=[^&]+&wait=1$/), status: 200 }]);
  });

  it('opening a link takes no place and reads nothing; only Join does', async () => {
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    // Someone in a group chat opens the link and leaves the pre-join screen open.
    const opener = open('opener');
    await until(opener, (v) => v.phase === 'prejoin' && v.signaling === 'ready', 'connected, not in the room');
    const heard: string[] = [];
    opener.signaling()!.on('message', (m) => heard.push(m.type));
    // The intended guest still gets in.
    const bob = open('bob');
    await until(bob, (v) => v.phase === 'prejoin', 'prejoin');
    bob.call.join();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    expect(opener.call.view.signaling).toBe('ready');
    expect(heard).toEqual([]); // no retained offer, no candidates: nothing of Alice's call
    // Tapping Join now finds the call full.
    opener.call.join();
    await state(opener, 'full');
    expect(heard).toEqual([]);
  });

  it('a third person who taps Join sees a full room and takes nothing from the call', async () => {
    const [alice, bob] = await connectedPair();
    // The server can't say who is there (another broker, or too slow): Join finds out.
    const mallory = open('mallory', { overrides: { roomStatus: async () => null } });
    await until(mallory, (v) => v.phase === 'prejoin', 'prejoin');
    mallory.call.join();
    await state(mallory, 'full');
    expect(mallory.call.view.phase).toBe('call');
    expect(alice.call.view.state).toBe('connected');
    expect(bob.call.view.state).toBe('connected');
  });

  it('the pre-join screen says whether the other person is waiting, and keeps asking', async () => {
    const bob = open('bob');
    await until(bob, (v) => v.phase === 'prejoin', 'prejoin');
    expect(bob.call.view.othersInRoom).toBe(0);
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    await t.clock.advance(10_000);
    await until(bob, (v) => v.othersInRoom === 1, 'the other person is waiting');
    bob.call.join();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
  });

  it('a third person learns the call is full before their camera opens', async () => {
    await connectedPair();
    let cameraOpened = 0;
    const carol = open('carol', { overrides: { openMedia: async () => Promise.reject(new Error(`camera opened ${++cameraOpened}`)) } });
    await state(carol, 'full');
    expect(carol.call.view.phase).toBe('call');
    expect(carol.call.view.localStream).toBeNull();
    expect(cameraOpened).toBe(0);
    expect(carol.signaling()).toBeNull(); // never connected to the broker either
  });

  it('the call fills up while someone sits on the pre-join screen: "full", and their camera stops', async () => {
    const alice = open('alice', { autojoin: true });
    await state(alice, 'waiting');
    const dave = open('dave');
    await until(dave, (v) => v.phase === 'prejoin' && v.othersInRoom === 1, 'prejoin, with Alice waiting');
    const bob = open('bob');
    await until(bob, (v) => v.phase === 'prejoin', 'prejoin');
    bob.call.join();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    await t.clock.advance(10_000);
    await state(dave, 'full');
    expect((dave.call.media as unknown as { stopped: boolean }).stopped).toBe(true);
    expect(alice.call.view.state).toBe('connected');
  });
});
