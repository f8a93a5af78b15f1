/// <reference lib="webworker" />
/**
 * Rings for a phone whose app is closed (issue 13): a Web Push carries a
 * sealed inbox message (protocol/ring.ts `PushEnvelope`). The worker opens it
 * with the contact's key from IndexedDB; anything it can't open, an unknown
 * or unsaved contact, or a stale ring shows nothing. A ring becomes a
 * notification with Answer and Decline; its cancel replaces it with a missed
 * call. An open, visible page rings by itself over its inbox connection.
 */
import { createStore, get } from 'idb-keyval';
import {
  CONTACTS_DB,
  CONTACTS_STORE,
  fromBase64Url,
  importContactKey,
  inboxTopic,
  open,
  parseInboxMessage,
  parsePushEnvelope,
  PROTOCOL_VERSION,
  ringIsFresh,
  seal,
  toBase64Url,
  type InboxId,
  type InboxMessage,
} from '../protocol/index';
import { pushStrings, withName } from './strings';

declare const self: ServiceWorkerGlobalScope;

/** The fields of the page's contact record (app/contacts/store.ts) this worker reads. */
interface StoredContact {
  id: InboxId;
  myKey: string;
  theirInbox: InboxId | null;
  theirKey: string | null;
  name: string;
  iSaved: boolean;
  theySaved: boolean;
}

interface RingData {
  kind: 'ring';
  secret: string;
  id: string;
  inbox: InboxId;
}

let store: ReturnType<typeof createStore> | null = null;
const contacts = (): ReturnType<typeof createStore> => (store ??= createStore(CONTACTS_DB, CONTACTS_STORE));

async function openPush(text: string): Promise<{ contact: StoredContact; message: InboxMessage } | null> {
  const envelope = parsePushEnvelope(text);
  if (!envelope) return null;
  const contact = await get<StoredContact>(envelope.i, contacts());
  if (!contact || !contact.iSaved || !contact.theySaved) return null;
  try {
    const sealed = fromBase64Url(envelope.m)!;
    const message = parseInboxMessage(await open(await importContactKey(contact.myKey), inboxTopic(envelope.i), sealed));
    return { contact, message };
  } catch {
    return null;
  }
}

async function onPush(text: string): Promise<void> {
  const opened = await openPush(text);
  if (!opened) return;
  const { contact, message: m } = opened;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (windows.some((w) => w.visibilityState === 'visible')) return;
  const words = pushStrings(self.navigator.languages ?? [self.navigator.language]);
  if (m.type === 'ring') {
    if (!ringIsFresh(m.at, Date.now())) return;
    const data: RingData = { kind: 'ring', secret: m.secret, id: m.id, inbox: contact.id };
    await self.registration.showNotification(withName(words.calling, contact.name), {
      body: words.body,
      tag: m.id,
      requireInteraction: true,
      icon: '/pwa-192x192.png',
      data,
      // Not in TypeScript's lib yet: action buttons on the notification.
      ...{ actions: [{ action: 'answer', title: words.answer }, { action: 'decline', title: words.decline }], renotify: true, vibrate: [400, 200, 400] },
    });
    return;
  }
  if (m.type === 'cancel') {
    for (const n of await self.registration.getNotifications({ tag: m.id })) n.close();
    await self.registration.showNotification(withName(words.missed, contact.name), { body: words.missedBody, tag: m.id, icon: '/pwa-192x192.png', data: { kind: 'missed' } });
  }
}

/** Decline without opening the app: sealed for the caller's inbox, published through our server (broker/inbox-relay.ts). */
async function decline(data: RingData): Promise<void> {
  const contact = await get<StoredContact>(data.inbox, contacts());
  if (!contact?.theirInbox || !contact.theirKey) return;
  const body = JSON.stringify({ v: PROTOCOL_VERSION, type: 'decline', id: data.id, busy: false });
  const sealed = await seal(await importContactKey(contact.theirKey), inboxTopic(contact.theirInbox), body);
  await fetch('/api/inbox', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ inbox: contact.theirInbox, payload: toBase64Url(sealed) }),
  }).catch(() => undefined);
}

/** Answer: the app opens straight into the call (the page reads `?answer`). */
async function answer(data: RingData): Promise<void> {
  const url = `/call?answer#${data.secret}`;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows[0];
  if (open) {
    await open.focus().catch(() => undefined);
    await open.navigate(url).catch(() => self.clients.openWindow(url));
    return;
  }
  await self.clients.openWindow(url);
}

export function listenForPushes(): void {
  self.addEventListener('push', (event) => event.waitUntil(onPush(event.data?.text() ?? '')));
  self.addEventListener('notificationclick', (event) => {
    const data = event.notification.data as RingData | { kind: 'missed' } | null;
    event.notification.close();
    if (data?.kind === 'ring') event.waitUntil(event.action === 'decline' ? decline(data) : answer(data));
    else event.waitUntil(self.clients.openWindow('/'));
  });
}
