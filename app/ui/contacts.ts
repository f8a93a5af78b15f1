/**
 * The Solid adapter over this tab's Contacts service (app/contacts): a
 * signal for the list and one for a ringing call, and the actions behind
 * Home's and the call screen's buttons.
 */
import { createSignal } from 'solid-js';
import type { InboxId, Secret } from '../../protocol/index';
import { markAutojoin } from '../call/rejoin';
import type { Contacts, ContactRecord, IncomingRing } from '../contacts/contacts';
import { inCall } from './app-state';
import { navigate } from './router';

const [contactList, setContactList] = createSignal<readonly ContactRecord[]>([]);
const [incomingRing, setIncomingRing] = createSignal<IncomingRing | null>(null);
export { contactList, incomingRing };

let loading: Promise<Contacts> | null = null;
let loaded: Contacts | null = null;

/** The service if it has loaded (Home's contact buttons exist only then). */
export const loadedContacts = (): Contacts | null => loaded;

/** Loads the contacts (and, if there are any, starts listening for rings). Safe to call often. */
export function contacts(): Promise<Contacts> {
  loading ??= import('../contacts/browser').then(async (m) => {
    const service = await m.contactsService(inCall);
    setContactList(service.list);
    setIncomingRing(service.incoming);
    service.on('change', (list) => setContactList(list));
    service.on('incoming', (ring) => setIncomingRing(ring));
    loaded = service;
    return service;
  });
  return loading;
}

/** Boot: contacts load after first paint; a failure (no IndexedDB) only means no contacts. */
export function loadContacts(): void {
  void contacts().catch((err: unknown) => console.warn('[tandem] contacts unavailable', err));
}

const RING_KEY = 'tandem.ring';

/** "Call <name>": a fresh call whose page joins at once and rings the contact. */
export function callContact(id: InboxId, secret: Secret): void {
  markAutojoin(secret);
  try {
    sessionStorage.setItem(RING_KEY, JSON.stringify({ secret, id }));
  } catch {
    // Without sessionStorage the call still opens; it just won't ring.
  }
  void import('./CallPage');
  navigate(`/call#${secret}`);
}

/** The saved contact a freshly opened call page should ring, taken once. */
export function takeRing(secret: string): InboxId | null {
  try {
    const raw = sessionStorage.getItem(RING_KEY);
    if (!raw) return null;
    const ring = JSON.parse(raw) as { secret: string; id: InboxId };
    if (ring.secret !== secret) return null;
    sessionStorage.removeItem(RING_KEY);
    return ring.id;
  } catch {
    return null;
  }
}

const ANSWERED_KEY = 'tandem.answered';

/** Answer: open the caller's call and join at once. */
export async function answerRing(): Promise<void> {
  const secret = (await contacts()).answer();
  if (!secret) return;
  markAutojoin(secret);
  try {
    sessionStorage.setItem(ANSWERED_KEY, secret);
  } catch {
    // Only means the call screen may offer "Save contact" for someone already saved.
  }
  navigate(`/call#${secret}`);
}

/** A call that came from a ring (either side) needs no contact offer: they are saved already. */
export function isContactCall(secret: string): boolean {
  try {
    return sessionStorage.getItem(ANSWERED_KEY) === secret;
  } catch {
    return false;
  }
}

/** A ring notification's Answer opens `/call?answer#<secret>`: join at once, as if answered on the incoming screen. */
export function takeAnswerFromUrl(): void {
  if (location.pathname !== '/call' || !new URLSearchParams(location.search).has('answer')) return;
  const secret = location.hash.slice(1);
  markAutojoin(secret);
  try {
    sessionStorage.setItem(ANSWERED_KEY, secret);
  } catch {
    // Only means the call screen may offer "Save contact" for someone already saved.
  }
  history.replaceState(null, '', `/call#${secret}`);
}
