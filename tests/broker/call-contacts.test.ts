/**
 * The controller's part in contacts and ringing: a link call offers each
 * person the other's inbox once connected, and a call to a saved contact
 * rings once its offer waits in the room, stops ringing when they join, and
 * leaves the room when they say no.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { CallContactsPort, RingHandle, RingStatus } from '../../app/call/ports';
import { Emitter } from '../../app/lib/emitter';
import { callTestbed, kinds, state, until } from '../helpers/call-harness';

const t = callTestbed();

function recordingContacts() {
  const offers: string[] = [];
  const received: Array<{ call: string; inbox: string; key: string }> = [];
  const events = new EventEmitter();
  const port: CallContactsPort = {
    offer: async (call) => {
      offers.push(call);
      return { inbox: 'I'.repeat(21) + 'A', key: 'K'.repeat(42) + 'A' };
    },
    offered: async (call, inbox, key) => {
      received.push({ call, inbox, key });
      events.emit('received');
    },
  };
  /** Resolves once the other side's offer arrived (an event: nothing else re-checks it). */
  const arrived = (): Promise<void> => (received.length > 0 ? Promise.resolve() : new Promise((r) => events.once('received', () => r())));
  return { port, offers, received, arrived };
}

class FakeRing extends Emitter<{ status: (s: RingStatus) => void }> implements RingHandle {
  status: RingStatus = 'ringing';
  set(s: RingStatus): void {
    if (this.status !== 'ringing') return;
    this.status = s;
    this.emit('status', s);
  }
  answered = () => this.set('answered');
  cancel = () => this.set('cancelled');
}

describe('contacts through the controller', () => {
  it("a link call offers each side the other's inbox once connected", async () => {
    const a = recordingContacts();
    const b = recordingContacts();
    const alice = t.open('alice', { autojoin: true, overrides: { contacts: a.port } });
    await state(alice, 'waiting');
    const bob = t.open('bob', { overrides: { contacts: b.port } });
    await until(bob, (v) => v.phase === 'prejoin', 'prejoin');
    bob.call.join();
    await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
    await until(alice, (v) => v.contactId !== null, 'a contact offer');
    await until(bob, (v) => v.contactId !== null, 'a contact offer');
    await Promise.all([a.arrived(), b.arrived()]);
    // Each names the call by room and the other's peer id.
    const room = b.received[0]!.call.split('.')[0];
    expect(a.offers[0]).toBe(`${room}.${bob.signaling()!.peerId}`);
    expect(b.received[0]!.call).toBe(`${room}.${alice.signaling()!.peerId}`);
    expect(a.received[0]).toMatchObject({ inbox: 'I'.repeat(21) + 'A' });
    expect(kinds(alice)).toContain('contact');
  });

  it('a call to a saved contact rings once waiting, and stops ringing when they join', async () => {
    const ring = new FakeRing();
    let started = 0;
    const alice = t.open('alice', { autojoin: true, overrides: { ring: { name: 'Bob', start: () => (started++, ring) } } });
    await state(alice, 'waiting');
    await until(alice, (v) => v.ring === 'ringing', 'ringing');
    expect(alice.call.view.ringName).toBe('Bob');
    const bob = t.open('bob', { autojoin: true });
    await state(bob, 'connected');
    await until(alice, (v) => v.ring === 'answered', 'answered');
    expect(started).toBe(1);
    // A saved contact's call offers no contact: there is no contacts port.
    expect(kinds(alice)).not.toContain('contact');
  });

  it('a decline ends the caller\'s side: it leaves the room and its camera stops', async () => {
    const ring = new FakeRing();
    const alice = t.open('alice', { autojoin: true, overrides: { ring: { name: 'Bob', start: () => ring } } });
    await until(alice, (v) => v.ring === 'ringing', 'ringing');
    ring.set('busy');
    await until(alice, (v) => v.ring === 'busy', 'busy');
    await until(alice, () => kinds(alice).includes('bye'), 'a bye');
    expect(alice.call.view.media?.selfStream).toBeDefined();
  });

  it('hanging up while it rings cancels the ring', async () => {
    const ring = new FakeRing();
    const alice = t.open('alice', { autojoin: true, overrides: { ring: { name: 'Bob', start: () => ring } } });
    await until(alice, (v) => v.ring === 'ringing', 'ringing');
    await alice.call.hangup();
    expect(ring.status).toBe('cancelled');
  });
});
