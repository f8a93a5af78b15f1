/**
 * protocol/README.md's test vectors, checked against both implementations:
 * protocol/ (what the app and the server run) and tests/interop/wire.ts (a
 * client written from the page alone). The page is the source: the values are
 * read from its "Test vectors" block, so a page, an app or a client that
 * drifts from the other two fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as protocol from '../../protocol/index';
import * as wire from './wire';

const page = readFileSync(new URL('../../protocol/README.md', import.meta.url), 'utf8');

function vectors(): Record<string, string> {
  const block = /## Test vectors[\s\S]*?```text\n([\s\S]*?)```/.exec(page)?.[1];
  if (!block) throw new Error('no Test vectors block in protocol/README.md');
  return Object.fromEntries(block.trim().split('\n').map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
  }));
}

/** The page's emoji table, index 0 first. */
function pageEmoji(): string[] {
  return [...page.matchAll(/^\| \d+–\d+ \| (.+) \|$/gm)].flatMap((m) => m[1]!.split(' '));
}

const v = vectors();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const own = { fingerprint: v.ownFP!, nonce: v.ownNonce! };
const theirs = { fingerprint: v.theirFP!, nonce: v.theirNonce! };

describe('the page', () => {
  it('has every vector and a 64-emoji table', () => {
    for (const k of ['secret', 'roomId', 'key', 'token', 'peerId', 'clientId', 'topic', 'message', 'iv', 'sealed', 'ownCommit', 'theirCommit', 'code']) expect(v[k], k).toBeTruthy();
    expect(pageEmoji()).toHaveLength(64);
    expect(new Set(pageEmoji()).size).toBe(64);
  });
});

describe('tests/interop (written from the page)', () => {
  it('derives the room id, peer id, key and topic', () => {
    expect(hex(wire.unb64u(v.secret!))).toBe(v.secretBytes);
    expect(hex(wire.unb64u(v.token!))).toBe(v.tokenBytes);
    expect(wire.roomIdOf(v.secret!)).toBe(v.roomId);
    expect(wire.peerIdOf(v.token!)).toBe(v.peerId);
    expect(hex(wire.keyOf(v.secret!))).toBe(v.key);
    expect(wire.topicOf(v.roomId!, v.peerId!, 'presence')).toBe(v.topic);
  });

  it('seals the message to the exact bytes, and opens them', () => {
    expect(hex(wire.seal(fromHex(v.key!), v.topic!, v.message!, fromHex(v.iv!)))).toBe(v.sealed);
    expect(wire.open(fromHex(v.key!), v.topic!, fromHex(v.sealed!))).toBe(v.message);
    // Bound to its topic: the same bytes don't open on the signal topic.
    expect(() => wire.open(fromHex(v.key!), v.topic!.replace(/presence$/, 'signal'), fromHex(v.sealed!))).toThrow();
  });

  it('computes both commitments and the code, with the page’s emoji', () => {
    expect(wire.EMOJI).toEqual(pageEmoji());
    expect(wire.commitOf(own.fingerprint, own.nonce)).toBe(v.ownCommit);
    expect(wire.commitOf(theirs.fingerprint, theirs.nonce)).toBe(v.theirCommit);
    expect(wire.codeOf(own, theirs).join(' ')).toBe(v.code);
    expect(wire.codeOf(theirs, own).join(' ')).toBe(v.code);
  });
});

describe('protocol/ (what the app and the server run)', () => {
  it('derives the room id, peer id and client id', async () => {
    expect(hex(protocol.fromBase64Url(v.secret!)!)).toBe(v.secretBytes);
    expect(await protocol.deriveRoomId(v.secret as protocol.Secret)).toBe(v.roomId);
    expect(await protocol.peerIdOf(v.token as protocol.PeerToken)).toBe(v.peerId);
    expect(protocol.clientIdFor(v.roomId as protocol.RoomId, v.peerId as protocol.PeerId)).toBe(v.clientId);
    expect(protocol.peerTopic(v.roomId as protocol.RoomId, v.peerId as protocol.PeerId, 'presence')).toBe(v.topic);
  });

  it('opens the page’s sealed bytes with its derived key, and its own seal opens with the page’s key', async () => {
    // The derived key isn't extractable: opening the vector (AES-GCM authenticates) proves it is the page's key.
    const key = await protocol.deriveKey(v.secret as protocol.Secret);
    expect(await protocol.open(key, v.topic!, fromHex(v.sealed!))).toBe(v.message);
    const msg = await protocol.openMessage(key, v.topic!, 'presence', fromHex(v.sealed!));
    expect(msg).toMatchObject({ type: 'presence', from: v.peerId, offer: null });
    const sealed = await protocol.seal(key, v.topic!, v.message!);
    expect(sealed.length).toBe(fromHex(v.sealed!).length);
    expect(wire.open(fromHex(v.key!), v.topic!, sealed)).toBe(v.message);
  });

  it('computes both commitments and the code, with the page’s emoji', async () => {
    expect([...protocol.VERIFICATION_EMOJI]).toEqual(pageEmoji());
    expect(await protocol.verifyCommitment(own.fingerprint, own.nonce)).toBe(v.ownCommit);
    expect(await protocol.verifyCommitment(theirs.fingerprint, theirs.nonce)).toBe(v.theirCommit);
    expect((await protocol.verificationCode(own, theirs)).join(' ')).toBe(v.code);
    expect((await protocol.verificationCode(theirs, own)).join(' ')).toBe(v.code);
  });
});
