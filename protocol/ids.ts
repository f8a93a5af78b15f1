import { fromBase64Url, randomBase64Url } from './encoding';

/** 16 random bytes → 22 base64url characters: 128 bits, the call link's secret. */
export const SECRET_BYTES = 16;
/** 9 random bytes → 12 characters. Peer ids only need to be unique within a room. */
export const PEER_ID_BYTES = 9;
/** A peer's token: 16 random bytes, the MQTT password that proves its peer id (never sent to the other peer). */
export const PEER_TOKEN_BYTES = 16;
/** Room ids are 16 bytes of a hash of the secret → 22 characters. */
export const ROOM_ID_BYTES = 16;

const B64URL = /^[A-Za-z0-9_-]+$/;

function isB64(text: unknown, bytes: number): text is string {
  return (
    typeof text === 'string' &&
    text.length === Math.ceil((bytes * 4) / 3) &&
    B64URL.test(text) &&
    fromBase64Url(text)?.length === bytes
  );
}

export type Secret = string & { readonly __brand: 'Secret' };
export type RoomId = string & { readonly __brand: 'RoomId' };
export type PeerId = string & { readonly __brand: 'PeerId' };
export type PeerToken = string & { readonly __brand: 'PeerToken' };

export const isSecret = (s: unknown): s is Secret => isB64(s, SECRET_BYTES);
export const isRoomId = (s: unknown): s is RoomId => isB64(s, ROOM_ID_BYTES);
export const isPeerId = (s: unknown): s is PeerId => isB64(s, PEER_ID_BYTES);
export const isPeerToken = (s: unknown): s is PeerToken => isB64(s, PEER_TOKEN_BYTES);

export const newSecret = (): Secret => randomBase64Url(SECRET_BYTES) as Secret;
/** A bare random peer id, for tests of the registry; a real peer derives its id from a token (crypto.ts `peerIdOf`). */
export const newPeerId = (): PeerId => randomBase64Url(PEER_ID_BYTES) as PeerId;
export const newPeerToken = (): PeerToken => randomBase64Url(PEER_TOKEN_BYTES) as PeerToken;

/** A short random id for one page load ("session") of a peer. */
export const newSessionId = (): string => randomBase64Url(6);
