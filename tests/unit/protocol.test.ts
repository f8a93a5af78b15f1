import { describe, expect, it } from 'vitest';
import {
  clientIdFor, DecryptError, deriveKey, deriveRoomId, fromBase64Url, isSecret, MAX_SDP_CHARS, newPeerId, newSecret, openMessage,
  parseClientId, parseMessage, parseRoomFilter, parseTopic, peerTopic, ProtocolError, roomFilters, sdpFingerprint, sealMessage,
  toBase64Url, verificationCode, verifyCommitment, type SignalMessage, PROTOCOL_VERSION, isPeerId, isPeerToken, newPeerToken, peerIdOf, type PeerToken,
} from '../../protocol/index';
import { peerIdOfSync } from '../helpers/peers';

const FP_A = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const FP_B = Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).padStart(2, '0').toUpperCase()).join(':');
const sdp = (fp = FP_A, extra = '') => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${fp}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 ${fp}\r\n${extra}`;

describe('ids and encoding', () => {
  it('derives a peer id from its token, the same way in Web Crypto and node:crypto', async () => {
    const token = newPeerToken();
    expect(isPeerToken(token)).toBe(true);
    const id = await peerIdOf(token);
    expect(isPeerId(id)).toBe(true);
    expect(peerIdOfSync(token)).toBe(id);
    expect(await peerIdOf(newPeerToken())).not.toBe(id);
    await expect(peerIdOf('not base64url!' as PeerToken)).rejects.toThrow();
  });

  it('makes 128-bit base64url secrets', () => {
    const s = newSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(fromBase64Url(s)?.length).toBe(16);
    expect(isSecret(s)).toBe(true);
    expect(isSecret(s.slice(1))).toBe(false);
    expect(isSecret(s.slice(0, 21) + '!')).toBe(false);
  });
  it('round-trips base64url and rejects non-canonical text', () => {
    for (let n = 0; n < 20; n++) {
      const b = crypto.getRandomValues(new Uint8Array(n));
      expect(fromBase64Url(toBase64Url(b))).toEqual(b);
    }
    expect(fromBase64Url('AQ')).toEqual(Uint8Array.of(1));
    expect(fromBase64Url('AB')).toBeNull(); // leftover bits set: not canonical
    expect(fromBase64Url('A')).toBeNull();
  });
});

describe('topics', () => {
  it('builds and parses the layout', async () => {
    const room = await deriveRoomId(newSecret());
    const peer = newPeerId();
    expect(parseTopic(peerTopic(room, peer, 'signal'))).toEqual({ room, peer, kind: 'signal' });
    expect(roomFilters(room).map(parseRoomFilter)).toEqual([{ room, kind: 'presence' }, { room, kind: 'signal' }]);
    expect(parseClientId(clientIdFor(room, peer))).toEqual({ room, peer });
    for (const bad of ['#', '+/#', `tandem/v1/${room}/#`, `tandem/v1/${room}/${peer}/other`, `$SYS/x`, `tandem/v1/${room}/+/signal`]) {
      expect(parseTopic(bad)).toBeNull();
    }
    expect(parseRoomFilter(`tandem/v1/${room}/#`)).toBeNull();
    expect(parseClientId('mqttjs_1234')).toBeNull();
  });
});

describe('crypto', () => {
  it('derives a room id that does not reveal the secret and is stable', async () => {
    const secret = newSecret();
    const room = await deriveRoomId(secret);
    expect(room).toHaveLength(22);
    expect(room).not.toContain(secret.slice(0, 8));
    expect(await deriveRoomId(secret)).toBe(room);
    expect(await deriveRoomId(newSecret())).not.toBe(room);
  });

  it('seals and opens a message, bound to key and topic', async () => {
    const secret = newSecret();
    const key = await deriveKey(secret);
    const room = await deriveRoomId(secret);
    const peer = newPeerId();
    const topic = peerTopic(room, peer, 'presence');
    const msg: SignalMessage = { v: PROTOCOL_VERSION, from: peer, session: 'abc', gen: 1, type: 'presence', offer: { type: 'offer', sdp: sdp() } };
    const sealed = await sealMessage(key, topic, msg);
    expect(new TextDecoder().decode(sealed)).not.toContain('fingerprint');
    expect(await openMessage(key, topic, 'presence', sealed)).toEqual(msg);

    const otherKey = await deriveKey(newSecret());
    await expect(openMessage(otherKey, topic, 'presence', sealed)).rejects.toBeInstanceOf(DecryptError);
    await expect(openMessage(key, peerTopic(room, newPeerId(), 'presence'), 'presence', sealed)).rejects.toBeInstanceOf(DecryptError);
    const flipped = sealed.slice();
    flipped[flipped.length - 1]! ^= 1;
    await expect(openMessage(key, topic, 'presence', flipped)).rejects.toMatchObject({ reason: 'authentication' });
    await expect(openMessage(key, topic, 'presence', new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ reason: 'malformed' });
  });
});

describe('message validation', () => {
  const env = { v: PROTOCOL_VERSION, from: newPeerId(), session: 's1', gen: 1 };
  const to = { session: 's2', gen: 1 };
  const parse = (x: unknown, kind: 'presence' | 'signal' = 'signal') => parseMessage(JSON.stringify(x), kind);

  it('accepts each message type on its topic', () => {
    expect(parse({ ...env, type: 'presence', offer: null }, 'presence').type).toBe('presence');
    expect(parse({ ...env, type: 'description', to, description: { type: 'answer', sdp: sdp() } }).type).toBe('description');
    expect(parse({ ...env, type: 'candidate', to, candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null } }).type).toBe('candidate');
    expect(parse({ ...env, type: 'media', to, state: { audioMuted: true, videoOff: false, screen: false } }).type).toBe('media');
    expect(parse({ ...env, type: 'bye', to: null }).type).toBe('bye');
  });

  it('media state: the optional flags of issue 14 parse, default to absent, and must be booleans', () => {
    const base = { audioMuted: false, videoOff: false, screen: false };
    const media = (state: unknown) => parse({ ...env, type: 'media', to, state });
    // An old peer's message (no flags) still parses, and reads as all off.
    expect((media(base) as { state: unknown }).state).toEqual(base);
    expect((media({ ...base, audioOnly: true, dataSaver: false, weakLink: true }) as { state: unknown }).state).toEqual({ ...base, audioOnly: true, weakLink: true });
    expect(() => media({ ...base, audioOnly: 'yes' })).toThrow(expect.objectContaining({ reason: 'shape' }));
  });

  it.each([
    ['garbage JSON', '{not json', 'json'],
    ['wrong version (v1, before the verification commitment)', JSON.stringify({ ...env, v: 1, type: 'bye', to: null }), 'version'],
    ['verify-commit that is not a 32-byte digest', JSON.stringify({ ...env, type: 'verify-commit', to, commit: 'abc' }), 'shape'],
    ['verify-reveal without a nonce', JSON.stringify({ ...env, type: 'verify-reveal', to }), 'shape'],
    ['unknown type', JSON.stringify({ ...env, type: 'hack', to: null }), 'shape'],
    ['presence on signal topic', JSON.stringify({ ...env, type: 'presence', offer: null }), 'topic'],
    ['bad peer id', JSON.stringify({ ...env, from: 'x', type: 'bye', to: null }), 'shape'],
    ['oversize SDP', JSON.stringify({ ...env, type: 'description', to, description: { type: 'offer', sdp: sdp(FP_A, 'a=x\r\n'.repeat(MAX_SDP_CHARS / 5)) } }), 'sdp-size'],
    ['too many candidates', JSON.stringify({ ...env, type: 'description', to, description: { type: 'offer', sdp: sdp(FP_A, 'a=candidate:1 1 udp 1 1.2.3.4 1 typ host\r\n'.repeat(51)) } }), 'sdp-candidates'],
    ['two fingerprints', JSON.stringify({ ...env, type: 'description', to, description: { type: 'offer', sdp: sdp(FP_A, `a=fingerprint:sha-256 ${FP_B}\r\n`) } }), 'fingerprint'],
    ['sha-1 fingerprint', JSON.stringify({ ...env, type: 'description', to, description: { type: 'offer', sdp: 'a=fingerprint:sha-1 AB:CD\r\n' } }), 'fingerprint'],
    ['no fingerprint', JSON.stringify({ ...env, type: 'description', to, description: { type: 'offer', sdp: 'v=0\r\n' } }), 'fingerprint'],
  ])('rejects %s', (_name, json, reason) => {
    expect(() => parseMessage(json, 'signal')).toThrow(ProtocolError);
    try {
      parseMessage(json, 'signal');
    } catch (e) {
      expect((e as ProtocolError).reason).toBe(reason);
    }
  });

  it('reads the one fingerprint of an SDP', () => {
    expect(sdpFingerprint(sdp(FP_A.toLowerCase()))).toBe(FP_A);
  });
});

/** The worked example in protocol/README.md, computed there by an independent implementation (Python hashlib). */
const README_COMMIT = 'Q884RcXyH_UptwJ1UdHMd0G93DbejbFd1KWgo97kdRA';
const README_CODE = '📎 🐰 🔧 📁';

describe('verification code', () => {
  const N1 = toBase64Url(new Uint8Array(32).fill(1));
  const N2 = toBase64Url(new Uint8Array(32).fill(2));
  it('is the same for both sides and changes when a fingerprint or a nonce changes', async () => {
    const a = await verificationCode({ fingerprint: FP_A, nonce: N1 }, { fingerprint: FP_B, nonce: N2 });
    expect(a).toHaveLength(4);
    expect(await verificationCode({ fingerprint: FP_B, nonce: N2 }, { fingerprint: FP_A, nonce: N1 })).toEqual(a);
    const tampered = FP_B.slice(0, -2) + (FP_B.endsWith('E0') ? 'E1' : 'E0');
    expect(await verificationCode({ fingerprint: FP_A, nonce: N1 }, { fingerprint: tampered, nonce: N2 })).not.toEqual(a);
    expect(await verificationCode({ fingerprint: FP_A, nonce: N2 }, { fingerprint: FP_B, nonce: N1 })).not.toEqual(a);
  });

  it('matches the worked example in protocol/README.md (the bits, the order, the emoji list)', async () => {
    expect(await verifyCommitment(FP_A, N1)).toBe(README_COMMIT);
    expect((await verificationCode({ fingerprint: FP_A, nonce: N1 }, { fingerprint: FP_B, nonce: N2 })).join(' ')).toBe(README_CODE);
  });
});
