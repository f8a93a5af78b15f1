/**
 * Two devices' Contacts services (app/contacts) against any broker URL: the
 * pairing and ring steps the contacts, cluster and Mosquitto tests share.
 */
import mqtt from 'mqtt';
import { afterEach, expect } from 'vitest';
import { newPeerToken, newSecret, type PushTarget } from '../../protocol/index';
import { Contacts, isReady, type IncomingRing, type PushPort } from '../../app/contacts/contacts';
import { connectInbox } from '../../app/contacts/inbox';
import type { RingStatus } from '../../app/contacts/ring';
import { memoryContacts } from '../../app/contacts/store';
import { FakeClock } from './call-harness';

const devices: Contacts[] = [];
afterEach(() => {
  for (const d of devices.splice(0)) d.close();
});

export interface Device {
  contacts: Contacts;
  storage: ReturnType<typeof memoryContacts>;
  busy: { now: boolean };
  connected: Promise<void>;
}

/** A device's push subscription: endpoint `https://push.test/<n>`; rotate() makes the next one. */
export class FakePush implements PushPort {
  n = 1;
  readonly sent: Array<{ endpoint: string; inbox: string; topic: string }> = [];
  subscription = async (): Promise<PushTarget> => ({ endpoint: `https://push.test/${this.n}`, keys: { p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) } });
  rotate = async (): Promise<void> => void this.n++;
  send = async (target: PushTarget, envelope: { i: string }, topic: string): Promise<'ok'> => {
    this.sent.push({ endpoint: target.endpoint, inbox: envelope.i, topic });
    return 'ok';
  };
}

export function device(brokerUrl: string, clock: FakeClock, name: string, push: PushPort | null = null): Device {
  const storage = memoryContacts();
  const busy = { now: false };
  let markConnected!: () => void;
  const connected = new Promise<void>((r) => (markConnected = r));
  const contacts = new Contacts({
    storage,
    clock,
    log: { debug: () => undefined, warn: () => undefined },
    connect: (onMessage) =>
      connectInbox({ brokerUrl, token: newPeerToken(), onMessage, mqtt, onStatus: (up) => up && markConnected() }),
    push,
    busy: () => busy.now,
    myName: () => name,
    ringTimeoutMs: 30_000,
  });
  devices.push(contacts);
  return { contacts, storage, busy, connected };
}

export const changed = (d: Device, pred: () => boolean, what: string): Promise<void> =>
  new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const t = setTimeout(() => reject(new Error(`never: ${what}`)), 5_000);
    const off = d.contacts.on('change', () => {
      if (!pred()) return;
      clearTimeout(t);
      off();
      resolve();
    });
  });

export const incoming = (d: Device): Promise<IncomingRing | null> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no incoming ring')), 5_000);
    const off = d.contacts.on('incoming', (r) => {
      clearTimeout(t);
      off();
      resolve(r);
    });
  });

export const status = (ring: { status: RingStatus; on(e: 'status', fn: (s: RingStatus) => void): () => void }, want: RingStatus): Promise<void> =>
  new Promise((resolve, reject) => {
    if (ring.status === want) return resolve();
    const t = setTimeout(() => reject(new Error(`ring never ${want} (is ${ring.status})`)), 5_000);
    ring.on('status', (s) => {
      if (s !== want) return;
      clearTimeout(t);
      resolve();
    });
  });

/** Alice and Bob had a call (room R): each sent the other a fresh inbox over it, and both saved. */
export async function paired(aliceUrl: string, bobUrl: string, clock: FakeClock, bobPush: PushPort | null = null, alicePush: PushPort | null = null) {
  const alice = device(aliceUrl, clock, 'Alice', alicePush);
  const bob = device(bobUrl, clock, 'Bob', bobPush);
  const aOffer = await alice.contacts.offer('R.bob');
  const bOffer = await bob.contacts.offer('R.alice');
  await Promise.all([alice.connected, bob.connected]);
  await alice.contacts.offered('R.bob', bOffer.inbox, bOffer.key);
  await bob.contacts.offered('R.alice', aOffer.inbox, aOffer.key);
  await alice.contacts.save(aOffer.inbox, 'Bob B.');
  // Bob's phone hears that Alice saved him, with her own name as a suggestion.
  await changed(bob, () => bob.contacts.list[0]?.theySaved === true, 'bob learns alice saved him');
  expect(bob.contacts.list[0]!.theirName).toBe('Alice');
  expect(isReady(bob.contacts.list[0]!)).toBe(false);
  await bob.contacts.save(bOffer.inbox, '');
  await changed(alice, () => isReady(alice.contacts.list[0]!), 'alice sees bob saved her');
  expect(isReady(bob.contacts.list[0]!)).toBe(true);
  expect(bob.contacts.list[0]!.name).toBe('Alice'); // the suggestion, since Bob typed nothing
  return { alice, bob, aliceForBob: aOffer.inbox, bobForAlice: bOffer.inbox };
}


/** Alice (on `aliceUrl`) rings Bob (on `bobUrl`); Bob's phone shows it with the right link and declines; Alice hears it. */
export async function ringAndDecline(aliceUrl: string, bobUrl: string): Promise<void> {
  const { alice, bob, aliceForBob } = await paired(aliceUrl, bobUrl, new FakeClock());
  const secret = newSecret();
  const shown = incoming(bob);
  const ring = alice.contacts.ring(aliceForBob, secret);
  expect((await shown)?.secret).toBe(secret);
  bob.contacts.decline();
  await status(ring, 'declined');
}
