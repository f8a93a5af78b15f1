/**
 * The one Contacts service of this tab, wired to real browser APIs:
 * IndexedDB, mqtt.js (loaded only once there is a contact), the Push API
 * and our server's push relay.
 */
import { fromBase64Url, newPeerToken, toBase64Url, utf8, type PeerToken, type PushTarget } from '../../protocol/index';
import { browserLog } from '../call/browser';
import { realClock } from '../call/ports';
import { myName, ringTimeoutMs } from '../lib/settings';
import { fetchClientConfig } from '../signaling/config';
import { Contacts, type PushPort } from './contacts';
import { connectInbox } from './inbox';
import { indexedDbContacts } from './store';

const TOKEN_KEY = 'tandem.inboxToken';

/** Per tab, like the call's peer token: two tabs are two connections, and neither takes over the other. */
function inboxToken(): PeerToken {
  try {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) return saved as PeerToken;
    const token = newPeerToken();
    sessionStorage.setItem(TOKEN_KEY, token);
    return token;
  } catch {
    return newPeerToken();
  }
}

let vapidKey: string | null = null;

const push: PushPort = {
  async subscription(): Promise<PushTarget | null> {
    if (!('serviceWorker' in navigator) || !('PushManager' in window) || typeof Notification === 'undefined') return null;
    if (Notification.permission !== 'granted' || !vapidKey) return null;
    const key = fromBase64Url(vapidKey);
    if (!key) return null;
    // Chromium without Google's push service (or any browser offline) can hang or refuse here: no push, rings still reach an open app.
    const subscribing = navigator.serviceWorker.ready.then(async (reg) => {
      const existing = await reg.pushManager.getSubscription();
      // After the server's VAPID keys were rotated, the old subscription is dead: make a new one (start() then re-sends it).
      const sameKey = existing?.options.applicationServerKey && toBase64Url(new Uint8Array(existing.options.applicationServerKey)) === vapidKey;
      if (existing && sameKey) return existing;
      await existing?.unsubscribe();
      return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: new Uint8Array(key) });
    });
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000));
    const sub = await Promise.race([subscribing, timeout]).catch(() => null);
    const json = sub?.toJSON();
    return json?.endpoint && json.keys?.p256dh && json.keys.auth ? { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } } : null;
  },
  async rotate() {
    const reg = await navigator.serviceWorker?.getRegistration();
    await (await reg?.pushManager.getSubscription())?.unsubscribe();
  },
  async send(target, envelope, topic) {
    try {
      const res = await fetch('/api/push', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ subscription: target, payload: toBase64Url(utf8.encode(JSON.stringify(envelope))), ttl: 30, topic }),
      });
      if (res.status === 410) return 'gone';
      return res.ok ? 'ok' : 'failed';
    } catch {
      return 'failed';
    }
  },
};

let service: Promise<Contacts> | null = null;

/** The tab's contacts, loaded on first use. `busy` says whether a call is open in this tab. */
export function contactsService(busy: () => boolean): Promise<Contacts> {
  service ??= (async () => {
    const storage = await indexedDbContacts();
    const contacts = new Contacts({
      storage,
      clock: realClock,
      log: browserLog,
      connect: async (onMessage) => {
        const [config, mqtt] = await Promise.all([fetchClientConfig(location.origin), import('../signaling/mqtt').then((m) => m.loadMqtt())]);
        vapidKey = config.vapidPublicKey;
        return connectInbox({ brokerUrl: config.brokerUrl, token: inboxToken(), onMessage, mqtt });
      },
      push,
      busy,
      myName,
      ringTimeoutMs: ringTimeoutMs(),
    });
    await contacts.start();
    return contacts;
  })();
  return service;
}
