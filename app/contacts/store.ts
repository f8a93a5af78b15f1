/**
 * Saved contacts live on this device only (IndexedDB through idb-keyval),
 * never on the server. One record per contact, keyed by *our* inbox for them
 * (protocol/ring.ts): the service worker finds a push's contact by that id.
 */
import { CONTACTS_DB, CONTACTS_STORE, type InboxId, type PushTarget } from '../../protocol/index';

export interface ContactRecord {
  /** Our inbox for this contact: what they publish to. */
  id: InboxId;
  /** Our inbox's key (base64url, 32 bytes). */
  myKey: string;
  /** Their inbox for us, and its key: null until their offer arrived. */
  theirInbox: InboxId | null;
  theirKey: string | null;
  /** `<roomId>.<peerId>` of the call that introduced them. */
  call: string;
  /** What we call them; '' until we saved them. */
  name: string;
  /** What they call themselves (a suggestion for `name`). */
  theirName: string;
  iSaved: boolean;
  theySaved: boolean;
  /** Where to wake their phone when its app is closed. */
  theirPush: PushTarget | null;
  /** The push endpoint we last sent them (null = none): sent again when it changes. */
  pushSent: string | null;
  createdAt: number;
  /** Rings from them that nobody answered here (clock ms), newest last. */
  missed: number[];
}

/** Usable for ringing: both phones saved each other (the "both phones must agree"). */
export const isReady = (c: ContactRecord): boolean => c.iSaved && c.theySaved && c.theirInbox !== null && c.theirKey !== null;

/** What the contacts service needs from storage; IndexedDB in the browser, a Map in tests. */
export interface ContactStorage {
  all(): Promise<ContactRecord[]>;
  put(record: ContactRecord): Promise<void>;
  delete(id: InboxId): Promise<void>;
}


export async function indexedDbContacts(): Promise<ContactStorage> {
  const { createStore, values, set, del } = await import('idb-keyval');
  const store = createStore(CONTACTS_DB, CONTACTS_STORE);
  return {
    all: () => values<ContactRecord>(store),
    put: (record) => set(record.id, record, store),
    delete: (id) => del(id, store),
  };
}

export function memoryContacts(): ContactStorage & { records: Map<InboxId, ContactRecord> } {
  const records = new Map<InboxId, ContactRecord>();
  return {
    records,
    all: async () => [...records.values()].map((r) => structuredClone(r)),
    put: async (r) => void records.set(r.id, structuredClone(r)),
    delete: async (id) => void records.delete(id),
  };
}
