/**
 * Peer ids for test clients. A real peer id is the hash of a token that the
 * client sends as its MQTT password (protocol/crypto.ts `peerIdOf`); this
 * helper makes such pairs synchronously and remembers the token, so every
 * test helper that connects "as peer P" can prove it, and a test that wants
 * to spoof P simply connects without (or with another) token.
 */
import { createHash } from 'node:crypto';
import { fromBase64Url, newPeerToken, PEER_ID_BYTES, PEER_ID_LABEL, toBase64Url, type PeerId, type PeerToken, type RoomId } from '../../protocol/index';

const tokens = new Map<string, PeerToken>();

/** node:crypto twin of `peerIdOf` (tests/unit/protocol.test.ts checks that they agree). */
export function peerIdOfSync(token: PeerToken): PeerId {
  const digest = createHash('sha256').update(PEER_ID_LABEL).update(fromBase64Url(token)!).digest();
  return toBase64Url(new Uint8Array(digest).subarray(0, PEER_ID_BYTES)) as PeerId;
}

/** A fresh peer id whose token the connect helpers will present. */
export function newPeerId(): PeerId {
  const token = newPeerToken();
  const id = peerIdOfSync(token);
  tokens.set(id, token);
  return id;
}

export const tokenOf = (peer: string): PeerToken | undefined => tokens.get(peer);

/** MQTT username/password for `<room>.<peer>`, as the app sends them; none for a peer this helper did not make. */
export function credentials(room: RoomId | string, peer: PeerId | string): { username?: string; password?: Buffer } {
  const token = tokens.get(peer);
  return token ? { username: room, password: Buffer.from(token) } : {};
}
