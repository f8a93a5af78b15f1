/**
 * What a tab remembers about its calls (sessionStorage, injected): its peer
 * token per room, whether it is in a call (so a reload skips the pre-join
 * screen), and the "Start a call" tap that makes the new call join at once.
 * Imports nothing heavy: Home uses markAutojoin.
 */
import { isPeerToken, newPeerToken, peerIdOf, type PeerId, type PeerToken, type RoomId } from '../../protocol/index';
import type { CallState } from './machine';

export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const AUTOJOIN_KEY = 'tandem.autojoin';
const JOINED_PREFIX = 'tandem.joined.';
/** A reload (or the link reopened) this soon after being in the call goes straight back in. */
export const REJOIN_WITHIN_MS = 60_000;

/** "Start a call" marks its new link so that page joins without the pre-join tap (the tap on Start was the gesture). */
export function markAutojoin(secret: string, store: KeyValueStore = sessionStorage): void {
  store.setItem(AUTOJOIN_KEY, secret);
}

export function takeAutojoin(secret: string, store: KeyValueStore): boolean {
  const yes = store.getItem(AUTOJOIN_KEY) === secret;
  if (yes) store.removeItem(AUTOJOIN_KEY);
  return yes;
}

/**
 * One peer token per tab and room, so a reload is the same peer (client-id
 * takeover), never a third person. The peer id is its hash; the token itself
 * is the MQTT password and never leaves this tab otherwise.
 */
export async function tabPeer(room: RoomId, store: KeyValueStore): Promise<{ peerId: PeerId; token: PeerToken }> {
  const key = `tandem.peer-token.${room}`;
  const saved = store.getItem(key);
  const token = isPeerToken(saved) ? saved : newPeerToken();
  store.setItem(key, token);
  return { peerId: await peerIdOf(token), token };
}

/** Remembers that we are in this call, or forgets it when the call ended. */
export function markJoined(room: RoomId, state: CallState, now: number, store: KeyValueStore): void {
  if (state === 'connected' || state === 'connecting' || state === 'reconnecting' || state === 'waiting') {
    store.setItem(JOINED_PREFIX + room, String(now));
  } else if (state === 'ended') {
    store.removeItem(JOINED_PREFIX + room);
  }
}

/** A reload after a long, steady call must count from now, not from the last state change. */
export function touchJoined(room: RoomId, now: number, store: KeyValueStore): void {
  if (store.getItem(JOINED_PREFIX + room)) store.setItem(JOINED_PREFIX + room, String(now));
}

export function recentlyJoined(room: RoomId, now: number, store: KeyValueStore): boolean {
  const at = Number(store.getItem(JOINED_PREFIX + room));
  return at > 0 && now - at < REJOIN_WITHIN_MS;
}
