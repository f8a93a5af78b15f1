/**
 * Saved contacts and ringing, for one device: pairing over inboxes, rings
 * in and out, missed calls. Plain TypeScript with injected storage, clock,
 * transport and push (STYLE 8), so whole pairings and rings run under vitest
 * with the real broker.
 *
 * Pairing: during a call each side sends the other a fresh inbox (the call's
 * 'contact' message). Saving someone sends `saved` to their inbox; a contact
 * is usable once both sides said `saved`. Because this runs over inboxes,
 * either person can save during the call or after it.
 */
import {
  importContactKey,
  inboxTopic,
  newContactKey,
  newInboxId,
  newRingId,
  open,
  parseInboxMessage,
  ringIsFresh,
  seal,
  toBase64Url,
  type InboxId,
  type InboxMessage,
  type PushTarget,
  type RingId,
  type Secret,
} from '../../protocol/index';
import { PROTOCOL_VERSION } from '../../protocol/limits';
import type { Logger } from '../call/negotiator';
import { withTimeout, type Clock } from '../call/ports';
import { Emitter } from '../lib/emitter';
import type { InboxHandler, InboxTransport } from './inbox';
import { OutgoingRing } from './ring';
import { isReady, type ContactRecord, type ContactStorage } from './store';

export { isReady, type ContactRecord } from './store';

/** An offer nobody saved is forgotten after this long. */
const OFFER_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Missed calls kept per contact. */
const MAX_MISSED = 20;
/** How long offer() waits for its inbox subscription to be granted before handing the inbox out anyway (offline). */
const LISTEN_WAIT_MS = 3_000;

export interface IncomingRing {
  id: RingId;
  contact: InboxId;
  name: string;
  secret: Secret;
}

export interface PushPort {
  /** This device's push subscription, if the person allowed notifications; null otherwise. */
  subscription(): Promise<PushTarget | null>;
  /** Sends a sealed envelope through our server's relay; 'gone' = that subscription is dead. */
  send(target: PushTarget, envelope: { i: InboxId; m: string }, topic: string): Promise<'ok' | 'gone' | 'failed'>;
  /** Drops this device's subscription, so the next `subscription()` is a new endpoint (the old one dies at the push service). */
  rotate(): Promise<void>;
}

export interface ContactsPorts {
  storage: ContactStorage;
  clock: Clock;
  log: Logger;
  /** Opens the inbox connection (lazily, once there is a contact). */
  connect(onMessage: InboxHandler): Promise<InboxTransport>;
  push: PushPort | null;
  /** Already in a call: a ring gets "busy". */
  busy(): boolean;
  /** The name this person gives themselves ('' = none). */
  myName(): string;
  ringTimeoutMs: number;
}

export type ContactsEvents = {
  change: (contacts: readonly ContactRecord[]) => void;
  incoming: (ring: IncomingRing | null) => void;
};

export class Contacts extends Emitter<ContactsEvents> {
  private records = new Map<InboxId, ContactRecord>();
  private transport: Promise<InboxTransport> | null = null;
  private readonly keys = new Map<string, Promise<CryptoKey>>();
  private readonly seen = new Set<RingId>();
  private readonly outgoing = new Map<RingId, OutgoingRing>();
  private ringing: { ring: IncomingRing; timer: unknown } | null = null;
  private loaded: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly ports: ContactsPorts) {
    super();
  }

  get list(): readonly ContactRecord[] {
    return [...this.records.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  get incoming(): IncomingRing | null {
    return this.ringing?.ring ?? null;
  }

  /** Loads the contacts, forgets stale offers, listens, and repeats any `saved` the other side may have missed. */
  start(): Promise<void> {
    this.loaded ??= (async () => {
      const now = this.ports.clock.now();
      for (const r of await this.ports.storage.all()) {
        if (!r.iSaved && !r.theySaved && now - r.createdAt > OFFER_LIFETIME_MS) await this.ports.storage.delete(r.id);
        else this.records.set(r.id, r);
      }
      this.changed();
      if (this.records.size > 0) await this.listen([...this.records.keys()]);
      for (const r of this.records.values()) if (r.iSaved && !r.theySaved) void this.sendSaved(r, false);
      await this.refreshPush();
    })();
    return this.loaded;
  }

  /** Our inbox for the person in call `call` (`<room>.<peer>`): made once, kept for a day unless saved. */
  async offer(call: string): Promise<{ inbox: InboxId; key: string }> {
    await this.start();
    let r = [...this.records.values()].find((c) => c.call === call);
    if (!r) {
      r = {
        id: newInboxId(),
        myKey: newContactKey(),
        theirInbox: null,
        theirKey: null,
        call,
        name: '',
        theirName: '',
        iSaved: false,
        theySaved: false,
        theirPush: null,
        pushSent: null,
        createdAt: this.ports.clock.now(),
        missed: [],
      };
      await this.put(r, true);
      // Hand out an inbox only once it can receive: the other side may save us (and tell this inbox) at once.
      await this.listen([r.id], true);
    }
    return { inbox: r.id, key: r.myKey };
  }

  /** Their inbox for us arrived (the call's 'contact' message). */
  async offered(call: string, inbox: InboxId, key: string): Promise<void> {
    await this.start();
    const r = [...this.records.values()].find((c) => c.call === call);
    if (!r || (r.theirInbox === inbox && r.theirKey === key)) return;
    await this.put({ ...r, theirInbox: inbox, theirKey: key });
    if (r.iSaved) await this.sendSaved(this.records.get(r.id)!, false);
  }

  /** The person saved this contact under `name`. */
  async save(id: InboxId, name: string): Promise<void> {
    const r = this.records.get(id);
    if (!r || this.closed) return;
    await this.put({ ...r, name: name.trim() || r.theirName || 'Contact', iSaved: true });
    await this.sendSaved(this.records.get(id)!, r.theySaved);
  }

  /**
   * Forgets the contact: our inbox for them is no longer listened to, so their
   * rings reach no one. If they had our push endpoint, it is replaced (the old
   * one dies at the push service) and every remaining contact gets the new
   * one, so the removed person's copy wakes nothing.
   */
  async remove(id: InboxId): Promise<void> {
    const removed = this.records.get(id);
    if (!removed) return;
    this.records.delete(id);
    await this.ports.storage.delete(id);
    (await this.transport)?.forget([id]);
    if (this.ringing?.ring.contact === id) this.stopRinging(false);
    this.changed();
    if (removed.pushSent !== null && this.ports.push) {
      await this.ports.push.rotate().catch((err: unknown) => this.ports.log.warn('push rotation failed', { err: String(err) }));
      await this.refreshPush();
    }
  }

  /** Every saved contact whose copy of our push endpoint is out of date gets the current one (or none). */
  private async refreshPush(): Promise<void> {
    if (!this.ports.push) return;
    const current = (await this.ports.push.subscription().catch(() => null))?.endpoint ?? null;
    for (const r of this.records.values()) if (r.iSaved && r.theySaved && r.pushSent !== current) await this.sendSaved(r, true);
  }

  async clearMissed(id: InboxId): Promise<void> {
    const r = this.records.get(id);
    if (r && r.missed.length > 0) await this.put({ ...r, missed: [] });
  }

  /** Rings a ready contact to join the call behind `secret`. */
  ring(id: InboxId, secret: Secret): OutgoingRing {
    const r = this.records.get(id);
    if (!r || !isReady(r)) throw new Error('not a saved contact');
    const ringId = newRingId();
    const ring = new OutgoingRing(ringId, r.name, this.ports.clock, this.ports.ringTimeoutMs, (missed) => {
      this.outgoing.delete(ringId);
      void this.send(r, { v: PROTOCOL_VERSION, type: 'cancel', id: ringId, missed }, true);
    });
    this.outgoing.set(ringId, ring);
    ring.on('status', (s) => {
      if (s !== 'ringing') this.outgoing.delete(ringId);
    });
    void this.send(r, { v: PROTOCOL_VERSION, type: 'ring', id: ringId, at: this.ports.clock.now(), secret }, true);
    return ring;
  }

  /** Answer the ringing call: returns its link secret (the UI opens the call). */
  answer(): Secret | null {
    const ring = this.ringing?.ring ?? null;
    this.stopRinging(false);
    return ring?.secret ?? null;
  }

  decline(): void {
    const ring = this.ringing?.ring;
    if (!ring) return;
    this.stopRinging(false);
    const r = this.records.get(ring.contact);
    if (r) void this.send(r, { v: PROTOCOL_VERSION, type: 'decline', id: ring.id, busy: false }, false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ringing) this.ports.clock.clearTimeout(this.ringing.timer);
    void this.transport?.then((t) => t.close());
    this.removeAllListeners();
  }

  // ---- inbox ------------------------------------------------------------

  private readonly onInbox: InboxHandler = (inbox, payload) => {
    void this.receive(inbox, payload).catch((err: unknown) => {
      // Forged, replayed or garbled: dropped, never shown. No payload in the log.
      this.ports.log.debug('inbox message dropped', { reason: err instanceof Error ? err.name : 'unknown' });
    });
  };

  private async receive(inbox: InboxId, payload: Uint8Array): Promise<void> {
    const r = this.records.get(inbox);
    if (!r || this.closed) return;
    const m = parseInboxMessage(await open(await this.key(r.myKey), inboxTopic(inbox), payload));
    await this.handle(r, m);
  }

  /** Also the way in for a ring the service worker received by push while this page was open. */
  async handle(r: ContactRecord, m: InboxMessage): Promise<void> {
    switch (m.type) {
      case 'saved': {
        const wasSaved = r.theySaved;
        await this.put({ ...r, theySaved: true, theirName: m.name, theirPush: m.push });
        // Answer once, so they learn we saved them too (an `ack` is not answered).
        if (!m.ack && r.iSaved) await this.sendSaved(this.records.get(r.id)!, true);
        else if (!wasSaved) this.ports.log.debug('contact saved by the other side');
        return;
      }
      case 'ring':
        return this.onRing(r, m);
      case 'cancel':
        if (this.ringing?.ring.id === m.id) this.stopRinging(true);
        return;
      case 'decline':
        this.outgoing.get(m.id)?.declined(m.busy);
        return;
      default: {
        const never: never = m;
        throw new Error(`unhandled inbox message ${String(never)}`);
      }
    }
  }

  private async onRing(r: ContactRecord, m: Extract<InboxMessage, { type: 'ring' }>): Promise<void> {
    // Once per ring id, only fresh, only from someone both sides saved.
    if (!isReady(r) || this.seen.has(m.id) || !ringIsFresh(m.at, this.ports.clock.now())) return;
    this.seen.add(m.id);
    if (this.ports.busy() || this.ringing) {
      await this.send(r, { v: PROTOCOL_VERSION, type: 'decline', id: m.id, busy: true }, false);
      return;
    }
    const ring: IncomingRing = { id: m.id, contact: r.id, name: r.name, secret: m.secret };
    const timer = this.ports.clock.setTimeout(() => this.stopRinging(true), this.ports.ringTimeoutMs);
    this.ringing = { ring, timer };
    this.emit('incoming', ring);
  }

  private stopRinging(missed: boolean): void {
    const ringing = this.ringing;
    if (!ringing) return;
    this.ports.clock.clearTimeout(ringing.timer);
    this.ringing = null;
    this.emit('incoming', null);
    const r = this.records.get(ringing.ring.contact);
    if (missed && r) void this.put({ ...r, missed: [...r.missed, this.ports.clock.now()].slice(-MAX_MISSED) });
  }

  private async sendSaved(r: ContactRecord, ack: boolean): Promise<void> {
    if (!r.iSaved || !r.theirInbox) return;
    const push = (await this.ports.push?.subscription().catch(() => null)) ?? null;
    await this.send(r, { v: PROTOCOL_VERSION, type: 'saved', ack, name: this.ports.myName(), push }, false);
    const now = this.records.get(r.id);
    if (now && now.pushSent !== (push?.endpoint ?? null)) await this.put({ ...now, pushSent: push?.endpoint ?? null });
  }

  /** Seals for their inbox and publishes; a ring or its cancel also goes by push, for a phone whose app is closed. */
  private async send(r: ContactRecord, m: InboxMessage, byPush: boolean): Promise<void> {
    if (!r.theirInbox || !r.theirKey || this.closed) return;
    const sealed = await seal(await this.key(r.theirKey), inboxTopic(r.theirInbox), JSON.stringify(m));
    const transport = await this.ensureTransport();
    await transport.publish(r.theirInbox, sealed).catch((err: unknown) => this.ports.log.warn('inbox publish failed', { err: String(err) }));
    if (!byPush || !r.theirPush || !this.ports.push || !('id' in m)) return;
    const result = await this.ports.push.send(r.theirPush, { i: r.theirInbox, m: toBase64Url(sealed) }, m.id);
    if (result === 'gone') await this.put({ ...this.records.get(r.id)!, theirPush: null });
  }

  /** Subscribes our inboxes; with `untilGranted`, waits for the broker's SUBACK (at most LISTEN_WAIT_MS: offline, we go on). */
  private async listen(ids: InboxId[], untilGranted = false): Promise<void> {
    const granted = (await this.ensureTransport()).listen(ids);
    if (untilGranted) await withTimeout(this.ports.clock, granted, LISTEN_WAIT_MS);
  }

  private ensureTransport(): Promise<InboxTransport> {
    this.transport ??= this.ports.connect(this.onInbox);
    return this.transport;
  }

  private key(raw: string): Promise<CryptoKey> {
    let k = this.keys.get(raw);
    if (!k) this.keys.set(raw, (k = importContactKey(raw)));
    return k;
  }

  /** Stores a change; a record removed meanwhile stays removed unless `created`. */
  private async put(r: ContactRecord, created = false): Promise<void> {
    if (!created && !this.records.has(r.id)) return;
    this.records.set(r.id, r);
    await this.ports.storage.put(r);
    this.changed();
  }

  private changed(): void {
    if (!this.closed) this.emit('change', this.list);
  }
}
