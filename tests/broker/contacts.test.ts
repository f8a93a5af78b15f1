/**
 * Saved contacts and ringing between two devices: real `Contacts` services,
 * the real in-process server (our broker's inbox policy), real mqtt.js over
 * WebSockets, and a fake clock for the ring timeout.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { inboxTopic, newPeerToken, newSecret, PROTOCOL_VERSION, seal, importContactKey, newContactKey, newRingId } from '../../protocol/index';
import { Contacts, type IncomingRing } from '../../app/contacts/contacts';
import { memoryContacts } from '../../app/contacts/store';
import { cleanup, startTestServer } from '../helpers/broker';
import { FakeClock } from '../helpers/call-harness';
import { changed, device, FakePush, incoming, paired, status } from '../helpers/contacts';

afterEach(cleanup);

describe('saved contacts', () => {
  it('pair over inboxes; a ring shows on the other phone and Answer gives the call link', async () => {
    const server = await startTestServer();
    const clock = new FakeClock();
    const { alice, bob, aliceForBob } = await paired(server.mqttUrl, server.mqttUrl, clock);
    const secret = newSecret();
    const shown = incoming(bob);
    const ring = alice.contacts.ring(aliceForBob, secret);
    const r = await shown;
    expect(r).toMatchObject({ name: 'Alice', secret });
    expect(bob.contacts.answer()).toBe(secret);
    ring.answered();
    expect(ring.status).toBe('answered');
    expect(bob.contacts.list[0]!.missed).toEqual([]);
  });

  it('Decline reaches the caller; a busy phone declines by itself', async () => {
    const { alice, bob, aliceForBob, ring } = await ringing();
    bob.contacts.decline();
    await status(ring, 'declined');

    bob.busy.now = true;
    const again = alice.contacts.ring(aliceForBob, newSecret());
    await status(again, 'busy');
    expect(bob.contacts.incoming).toBeNull();
  });

  /** Alice rings Bob and his phone shows it; `stopped` resolves when it stops ringing there. */
  async function ringing() {
    const server = await startTestServer();
    const clock = new FakeClock();
    const { alice, bob, aliceForBob } = await paired(server.mqttUrl, server.mqttUrl, clock);
    const shown = incoming(bob);
    const ring = alice.contacts.ring(aliceForBob, newSecret());
    await shown;
    return { clock, alice, bob, aliceForBob, ring, stopped: incoming(bob) };
  }

  it('no answer in 30 s: the caller hears "no answer" and the callee keeps a missed call', async () => {
    const { clock, bob, ring, stopped } = await ringing();
    await clock.advance(30_000);
    await status(ring, 'no-answer');
    expect(await stopped).toBeNull();
    await changed(bob, () => bob.contacts.list[0]!.missed.length === 1, 'a missed call');
  });

  it('the caller hanging up first stops the ringing and leaves a missed call', async () => {
    const { bob, ring, stopped } = await ringing();
    ring.cancel();
    expect(await stopped).toBeNull();
    await changed(bob, () => bob.contacts.list[0]!.missed.length === 1, 'a missed call');
  });

  it('drops a forged ring, a replayed ring and a stale ring; a removed contact rings no one', async () => {
    const server = await startTestServer();
    const clock = new FakeClock();
    const { alice, bob, aliceForBob, bobForAlice } = await paired(server.mqttUrl, server.mqttUrl, clock);
    const seen: Array<IncomingRing | null> = [];
    bob.contacts.on('incoming', (r) => seen.push(r));
    const theirKey = alice.storage.records.get(aliceForBob)!.theirKey!;
    const raw = await mqtt.connectAsync(server.mqttUrl, { clientId: `inbox.${'A'.repeat(12)}`, username: 'inbox', password: 'x', reconnectPeriod: 0 }).catch(() => null);
    expect(raw).toBeNull(); // no way in without a token
    const publish = async (key: string, body: object): Promise<void> => {
      const sealed = await seal(await importContactKey(key), inboxTopic(bobForAlice), JSON.stringify(body));
      const out = await import('../../app/contacts/inbox').then((m) =>
        m.connectInbox({ brokerUrl: server.mqttUrl, token: newPeerToken(), onMessage: () => undefined, mqtt }),
      );
      await out.publish(bobForAlice, sealed);
      out.close();
    };
    const ring = { v: PROTOCOL_VERSION, type: 'ring', id: newRingId(), at: clock.now(), secret: newSecret() };
    await publish(newContactKey(), ring); // forged: someone who knows the inbox id but not the key
    await publish(theirKey, { ...ring, id: newRingId(), at: clock.now() - 61_000 }); // stale
    // A genuine ring is shown, then the same bytes' id again is not.
    const shown = incoming(bob);
    await publish(theirKey, ring);
    expect((await shown)?.id).toBe(ring.id);
    bob.contacts.decline();
    await publish(theirKey, ring);
    // Bob removes Alice: her rings go to an inbox nobody listens on.
    await bob.contacts.remove(bobForAlice);
    const r = alice.contacts.ring(aliceForBob, newSecret());
    // Until her own timeout: nothing ever reached Bob.
    await clock.advance(30_000);
    await status(r, 'no-answer');
    expect(seen.filter((x) => x !== null).map((x) => x!.id)).toEqual([ring.id]);
    expect(bob.contacts.list).toEqual([]);
  });

  it("rings go by push too; removing a contact who had our push endpoint replaces it for everyone else", async () => {
    const server = await startTestServer();
    const clock = new FakeClock();
    const push = new FakePush();
    const alicePush = new FakePush();
    const { alice, bob, aliceForBob, bobForAlice } = await paired(server.mqttUrl, server.mqttUrl, clock, push, alicePush);
    await changed(alice, () => alice.contacts.list[0]!.theirPush?.endpoint === 'https://push.test/1', "alice has bob's push endpoint");
    // Alice's ring goes to Bob's push service too, its topic the ring id (so the cancel replaces it there).
    const shown = incoming(bob);
    const ring = alice.contacts.ring(aliceForBob, newSecret());
    await shown;
    ring.cancel();
    await changed(bob, () => bob.contacts.list[0]!.missed.length === 1, 'missed');
    expect(alicePush.sent.map((p) => [p.endpoint, p.inbox, p.topic])).toEqual([
      ['https://push.test/1', bobForAlice, ring.id],
      ['https://push.test/1', bobForAlice, ring.id],
    ]);
    // Carol, a second contact of Bob's.
    const carol = device(server.mqttUrl, clock, 'Carol');
    const cOffer = await carol.contacts.offer('S.bob');
    const bOffer = await bob.contacts.offer('S.carol');
    await carol.connected;
    await carol.contacts.offered('S.bob', bOffer.inbox, bOffer.key);
    await bob.contacts.offered('S.carol', cOffer.inbox, cOffer.key);
    await carol.contacts.save(cOffer.inbox, 'Bob');
    await changed(bob, () => bob.contacts.list.some((c) => c.theySaved && c.id === bOffer.inbox), 'carol saved bob');
    await bob.contacts.save(bOffer.inbox, 'Carol');
    await changed(carol, () => carol.contacts.list[0]!.theirPush?.endpoint === 'https://push.test/1', "carol has bob's endpoint");
    // Bob removes Carol: his endpoint is replaced, Alice learns the new one, Carol keeps only the dead one.
    await bob.contacts.remove(bOffer.inbox);
    expect(push.n).toBe(2);
    await changed(alice, () => alice.contacts.list[0]!.theirPush?.endpoint === 'https://push.test/2', 'alice gets the new endpoint');
    expect(carol.contacts.list[0]!.theirPush?.endpoint).toBe('https://push.test/1');
    expect(bob.contacts.list.map((c) => c.id)).toEqual([bobForAlice]);
  });
});

describe('handing out an inbox', () => {
  /** A Contacts whose inbox transport grants subscriptions only when the test says so. */
  function withSlowBroker() {
    let grant!: () => void;
    const granted = new Promise<void>((r) => (grant = r));
    const clock = new FakeClock();
    const contacts = new Contacts({
      storage: memoryContacts(),
      clock,
      log: { debug: () => undefined, warn: () => undefined },
      connect: async () => ({ listen: () => granted, forget: () => undefined, publish: async () => undefined, close: () => undefined }),
      push: null,
      busy: () => false,
      myName: () => '',
      ringTimeoutMs: 30_000,
    });
    return { contacts, grant, clock };
  }

  it('offer() gives the inbox out only once the broker granted its subscription (a message sent to it at once is not lost)', async () => {
    const { contacts, grant } = withSlowBroker();
    let given = false;
    const offer = contacts.offer('R.x').then((o) => ((given = true), o));
    await new Promise((r) => setTimeout(r, 50));
    expect(given).toBe(false);
    grant();
    expect((await offer).inbox).toMatch(/^[A-Za-z0-9_-]+$/);
    contacts.close();
  });

  it('offline (no grant), it still gives the inbox out after 3 s: mqtt.js subscribes when the connection comes', async () => {
    const { contacts, clock } = withSlowBroker();
    let given = false;
    const offer = contacts.offer('R.x').then((o) => ((given = true), o));
    await new Promise((r) => setTimeout(r, 50)); // offer() is waiting for the grant by now
    await clock.advance(2_999);
    expect(given).toBe(false);
    await clock.advance(1);
    expect((await offer).inbox).toMatch(/^[A-Za-z0-9_-]+$/);
    contacts.close();
  });
});
