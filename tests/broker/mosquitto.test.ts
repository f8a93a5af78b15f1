/**
 * The app's broker contract against a stock Mosquitto (issue 7, "any MQTT
 * broker"): the join sequence works through it, and the sample config in
 * deploy/mosquitto/ confines clients to the signaling tree. The last tests
 * pin down what Mosquitto does NOT enforce, so the README's list of what is
 * lost stays true.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { peerTopic } from '../../protocol/index';
import { newPeerId } from '../helpers/peers';
import { waitFor } from '../helpers/wait';
import { closePeers, connectAt, joinAt, testRoom, type TestPeer } from '../helpers/mqtt-peer';
import { findMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto';
import { REPO } from '../helpers/server';
import { FakeClock } from '../helpers/call-harness';
import { incoming, paired, ringAndDecline } from '../helpers/contacts';
import { inboxTopic, newSecret } from '../../protocol/index';

const mosquittoBinary = findMosquitto();
const OFFER = { type: 'offer' as const, sdp: 'v=0\r\na=fingerprint:sha-256 ' + Array(32).fill('AB').join(':') + '\r\n' };

describe.skipIf(mosquittoBinary === null)('Mosquitto as the broker', () => {
  let plain: Mosquitto;
  let sample: Mosquitto;

  beforeAll(async () => {
    [plain, sample] = await Promise.all([startMosquitto(), startMosquitto({ configFile: `${REPO}deploy/mosquitto/mosquitto.conf` })]);
  }, 30_000);
  afterEach(closePeers);
  afterAll(async () => {
    await closePeers();
    await Promise.all([plain?.stop(), sample?.stop()]);
  });

  /** A publishes presence with an offer, then B joins and must get it retained; they exchange a signal each way. */
  async function joinSequence(url: string): Promise<{ a: TestPeer; b: TestPeer }> {
    const room = await testRoom();
    const a = await joinAt(url, room, newPeerId());
    expect(a.granted).toEqual([1, 1]);
    await a.publish({ type: 'presence', offer: OFFER });
    const b = await joinAt(url, room, newPeerId());
    const presence = await b.next({ from: a.peer, kind: 'presence', empty: false });
    expect(presence.retain).toBe(true);
    expect(presence.message).toMatchObject({ type: 'presence', offer: OFFER });
    await b.publish({ type: 'description', to: { session: 's', gen: 0 }, description: { type: 'answer', sdp: OFFER.sdp } });
    await a.next({ from: b.peer, type: 'description' });
    await a.publish({ type: 'bye', to: null });
    await b.next({ from: a.peer, type: 'bye' });
    return { a, b };
  }

  for (const which of ['harness defaults', 'deploy/mosquitto sample'] as const) {
    describe(which, () => {
      const url = (): string => (which === 'harness defaults' ? plain : sample).wsUrl;

      it('carries the join sequence: retained encrypted presence, signals both ways', async () => {
        await joinSequence(url());
      });

      it('rings a saved contact, and carries the decline back', async () => {
        await ringAndDecline(url(), url());
      });

      it("fires the Will when a peer's socket dies: the other peer sees its presence cleared", async () => {
        const { a, b } = await joinSequence(url());
        a.drop();
        const cleared = await b.next({ from: a.peer, kind: 'presence', empty: true });
        expect(cleared.retain).toBe(false); // delivered live
      });
    });
  }

  it('the sample ACL keeps clients inside tandem/v1/<room>/<peer>/{presence,signal}', async () => {
    const room = await testRoom();
    const peer = newPeerId();
    const x = await connectAt(sample.wsUrl, room, peer);
    // Mosquitto 2 grants any filter, and then delivers only what the ACL lets the client read.
    await x.client.subscribeAsync(['#', '$SYS/#'], { qos: 1 });
    const topics: string[] = [];
    x.client.on('message', (topic) => topics.push(topic));
    await x.client.publishAsync('elsewhere/x', 'refused', { qos: 1 });
    await x.client.publishAsync('tandem/v1/too/many/levels/here', 'refused', { qos: 1 });
    const own = peerTopic(room.room, peer, 'signal');
    const marker = waitFor(x.client, 'message', { filter: (t: string) => t === own });
    await x.client.publishAsync(own, 'marker', { qos: 1 });
    await marker;
    // Mosquitto delivers one client's messages in order, so the marker is the barrier.
    expect(topics).toEqual([own]);
  });

  describe('what a stock Mosquitto does not enforce (README: "Using another broker")', () => {
    it('room capacity: a third peer gets in', async () => {
      const room = await testRoom();
      const peers = await Promise.all([0, 1, 2].map(() => joinAt(sample.wsUrl, room, newPeerId())));
      expect(peers.map((p) => p.granted)).toEqual([[1, 1], [1, 1], [1, 1]]);
    });

    it("peer binding: a member can clear the other member's retained presence", async () => {
      const { a, b } = await joinSequence(sample.wsUrl);
      const cleared = b.next({ from: a.peer, kind: 'presence', empty: true });
      await b.client.publishAsync(peerTopic(a.room, a.peer, 'presence'), Buffer.alloc(0), { qos: 1, retain: true });
      await cleared;
    });

    it('exact inbox subscriptions: under the sample ACL a wildcard subscriber sees that rings happen (as ciphertext)', async () => {
      const spy = await connectAt(sample.wsUrl, await testRoom(), newPeerId());
      await spy.client.subscribeAsync('tandem/v1/ring/+', { qos: 1 });
      const { alice, bob, aliceForBob, bobForAlice } = await paired(sample.wsUrl, sample.wsUrl, new FakeClock());
      const seen = waitFor<[string, Buffer]>(spy.client, 'message', { filter: (t: string) => t === inboxTopic(bobForAlice) });
      const shown = incoming(bob);
      alice.contacts.ring(aliceForBob, newSecret());
      await shown;
      const [, payload] = await seen;
      expect(payload.toString('latin1')).not.toContain('"ring"');
    });

    it('room binding on the harness defaults (no ACL): a wildcard subscriber reads every room', async () => {
      const { a } = await joinSequence(plain.wsUrl);
      const spy = await connectAt(plain.wsUrl, await testRoom(), newPeerId());
      const seen = waitFor<[string]>(spy.client, 'message', { filter: (t: string) => t === peerTopic(a.room, a.peer, 'presence') });
      await spy.client.subscribeAsync('tandem/v1/+/+/presence', { qos: 1 });
      await seen;
    });
  });

  it("the sample ACL binds a client to the room in its username: a wildcard subscriber reads only its own room", async () => {
    const { a } = await joinSequence(sample.wsUrl);
    const spyRoom = await testRoom();
    const spyPeer = newPeerId();
    const spy = await connectAt(sample.wsUrl, spyRoom, spyPeer);
    const topics: string[] = [];
    spy.client.on('message', (topic) => topics.push(topic));
    await spy.client.subscribeAsync(['tandem/v1/+/+/presence', 'tandem/v1/+/+/signal'], { qos: 1 });
    // Our own retained presence is the barrier: the other room's (retained, older) would have come first.
    const own = peerTopic(spyRoom.room, spyPeer, 'presence');
    const marker = waitFor(spy.client, 'message', { filter: (t: string) => t === own });
    await spy.client.publishAsync(own, 'marker', { qos: 1, retain: true });
    await marker;
    expect(topics).toEqual([own]);
    expect(topics).not.toContain(peerTopic(a.room, a.peer, 'presence'));
  });
});
