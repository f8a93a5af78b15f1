import { join } from 'node:path';
import type { AuthorizePublishHandler } from 'aedes';
import mqtt from 'mqtt';
import type { Page } from '@playwright/test';
import { clientIdFor, deriveKey, deriveRoomId, newSecret, open, parseClientId, peerTopic, roomFilters, seal, verificationCode, type Secret } from '../../protocol/index';
import { credentials, newPeerId } from '../helpers/peers';
import { cleanup, startTestServer, type TestServer } from '../helpers/broker';
import { REPO } from '../helpers/server';
import { callScreen, expect, expectFramesFlowing, expectState, joinCall, localFingerprint, newContext, remoteFingerprint, startCall, test } from './fixtures';

/**
 * A hostile relay. The test (never the product) wraps the broker's publish
 * hook to tamper with one peer's signaling in flight, as a compromised or
 * malicious server operator could. It cannot read the payload (AES-GCM), so
 * rewriting `a=fingerprint` means changing ciphertext bytes.
 */
function tamperWith(server: TestServer, isVictim: (clientId: string) => boolean, onTamper: () => void): void {
  const broker = server.broker as unknown as { authorizePublish: AuthorizePublishHandler };
  const original = broker.authorizePublish;
  broker.authorizePublish = (client, packet, done) =>
    original.call(server.broker, client, packet, (err) => {
      if (!err && client && isVictim(client.id) && packet.payload.length > 0) {
        const bytes = Buffer.from(packet.payload);
        const at = bytes.length - 20; // one bit inside the ciphertext
        bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
        packet.payload = bytes;
        onTamper();
      }
      done(err);
    });
}

test('encrypted signaling: a tampered offer or answer is dropped, never applied', async ({ browser }) => {
  const server = await startTestServer({ distDir: join(REPO, 'dist') });
  const a = await newContext(browser, server.url);
  const b = await newContext(browser, server.url);
  try {
    let victim: string | null = null;
    let tampered = 0;
    tamperWith(server, (id) => (victim ??= id) === id, () => tampered++);
    const alice = await a.newPage();
    const bob = await b.newPage();
    const drops: string[] = [];
    bob.on('console', (m) => m.text().includes('signaling message dropped') && drops.push(m.text()));

    const link = await startCall(alice); // alice publishes first: she is the victim
    expect(parseClientId(victim)).not.toBeNull();
    await joinCall(bob, link);
    await expect.poll(() => drops.length, { message: 'bob drops the tampered messages' }).toBeGreaterThan(0);
    expect(drops.every((d) => d.includes('authentication'))).toBe(true);
    expect(tampered).toBeGreaterThan(0);
    // Nothing tampered reached setRemoteDescription: bob never bound to alice and is waiting alone.
    await expectState(bob, 'waiting');
    await expect(bob.getByTestId('call-screen')).not.toHaveAttribute('data-state', 'connected');
  } finally {
    await a.close();
    await b.close();
    await cleanup();
  }
});

/**
 * With encryption bypassed (an attacker who also holds the key), a relay can
 * swap fingerprints and run two DTLS sessions in the middle. The verification
 * code is what exposes it: Alice computes it from (her cert, the attacker's),
 * Bob from (the attacker's other cert, his). Real certificates from Chromium's
 * WebRTC stack, 100 runs.
 */
test('a fingerprint swapped in the middle makes the two verification codes differ, 100 of 100 runs', async ({ peer }) => {
  const page = await peer();
  await page.goto('/healthz');
  const runs = await page.evaluate(async () => {
    const fp = async () => {
      const cert = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams);
      return cert.getFingerprints().find((f) => f.algorithm === 'sha-256')!.value!.toUpperCase();
    };
    const out: Array<{ alice: string; bob: string; m1: string; m2: string }> = [];
    for (let i = 0; i < 100; i++) out.push({ alice: await fp(), bob: await fp(), m1: await fp(), m2: await fp() });
    return out;
  });
  let differ = 0;
  for (const r of runs) {
    const honestA = await verificationCode(r.alice, r.bob);
    const honestB = await verificationCode(r.bob, r.alice);
    expect(honestA).toEqual(honestB); // no attacker: the codes match
    const aliceSees = await verificationCode(r.alice, r.m1); // her DTLS peer is the attacker
    const bobSees = await verificationCode(r.m2, r.bob);
    if (aliceSees.join('') !== bobSees.join('')) differ++;
  }
  expect(differ).toBe(100);
});

/**
 * The same attack end to end through the app: a relay that holds the key (the
 * test derives it from the link) opens every offer and answer, swaps its
 * a=fingerprint for an attacker's, re-seals and forwards it. Each page then
 * shows the code of (its own cert, the attacker's), computed by the app from
 * what it applied, and the two codes differ. (A real attacker would also
 * relay the media through two DTLS sessions; the codes do not depend on that.)
 */
test('through the app: a relay that swaps fingerprints makes the codes on the two screens differ', async ({ browser }) => {
  test.setTimeout(90_000);
  const server = await startTestServer({ distDir: join(REPO, 'dist') });
  try {
    for (let run = 0; run < 3; run++) {
      const secret = newSecret();
      const key = await deriveKey(secret);
      const attacker = { offer: randomFingerprint(), answer: randomFingerprint() };
      swapFingerprints(server, key, attacker);
      const a = await newContext(browser, server.url);
      const b = await newContext(browser, server.url);
      try {
        const alice = await a.newPage();
        const bob = await b.newPage();
        await joinCall(alice, `/call#${secret}`);
        await expectState(alice, 'waiting');
        await joinCall(bob, `/call#${secret}`);
        // Each page shows the app's derivation from its own cert and the attacker's
        // (read against the page's current connection: a failed DTLS handshake
        // makes the app build a new one, with a new cert, and a new code).
        const [aliceCode, bobCode] = await Promise.all([shownCode(alice, attacker.answer), shownCode(bob, attacker.offer)]);
        // What each page applied came through the relay.
        expect(await remoteFingerprint(alice)).toBe(attacker.answer);
        expect(await remoteFingerprint(bob)).toBe(attacker.offer);
        expect(aliceCode).not.toBe(bobCode);
      } finally {
        await a.close();
        await b.close();
      }
    }
  } finally {
    await cleanup();
  }
});

function randomFingerprint(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** The test's relay (never the product): re-seals every offer and answer with the attacker's fingerprint. */
function swapFingerprints(server: TestServer, key: CryptoKey, attacker: { offer: string; answer: string }): void {
  const broker = server.broker as unknown as { authorizePublish: AuthorizePublishHandler };
  const original = (broker as { __original?: AuthorizePublishHandler }).__original ?? broker.authorizePublish;
  (broker as { __original?: AuthorizePublishHandler }).__original = original;
  // Candidates are withheld too, so ICE never starts and DTLS never fails: the
  // first connection (and its code) stays on screen while the test reads it.
  const rewrite = (sdp: string, fp: string) =>
    sdp.replace(/^a=fingerprint:sha-256 \S+/gm, `a=fingerprint:sha-256 ${fp}`).replace(/^a=candidate:.*\r\n/gm, '');
  broker.authorizePublish = (client, packet, done) =>
    original.call(server.broker, client, packet, (err) => {
      if (err || packet.payload.length === 0) return done(err);
      void (async () => {
        try {
          const m = JSON.parse(await open(key, packet.topic, new Uint8Array(packet.payload as Buffer))) as {
            type: string;
            offer?: { sdp: string } | null;
            description?: { type: string; sdp: string };
          };
          if (m.type === 'candidate') {
            packet.payload = Buffer.from('withheld by the relay'); // fails to open: dropped by the page
            done(null);
            return;
          }
          if (m.type === 'presence' && m.offer) m.offer.sdp = rewrite(m.offer.sdp, attacker.offer);
          if (m.type === 'description' && m.description) m.description.sdp = rewrite(m.description.sdp, m.description.type === 'offer' ? attacker.offer : attacker.answer);
          packet.payload = Buffer.from(await seal(key, packet.topic, JSON.stringify(m)));
        } catch {
          // Not for this run's key (a page of an earlier run still closing): leave it.
        }
        done(null);
      })();
    });
}

/** Opens the details panel; resolves with the code once it is the one of (this page's cert, `remoteFp`). */
async function shownCode(page: Page, remoteFp: string): Promise<string> {
  await page.getByRole('button', { name: /Call quality/ }).click();
  const code = page.getByTestId('verification-code');
  let shown = '';
  await expect
    .poll(async () => {
      shown = (await code.textContent()) ?? '';
      const want = (await verificationCode(await localFingerprint(page), remoteFp)).join(' ');
      return shown === want ? 'matches' : `shown "${shown}", expected "${want}"`;
    })
    .toBe('matches');
  return shown;
}

/**
 * An insider: someone with the link (so the key) joins a waiting call as a
 * member with a valid token and sends correctly sealed messages that break
 * the protocol's limits. The page must validate after decryption, drop and
 * count each one, and stay usable for the real second person.
 */
test('sealed but invalid signaling (huge SDP, two fingerprints, 51 candidates, not JSON) is dropped and counted; the call still works', async ({ peer, server }) => {
  const alice = await peer();
  const drops: string[] = [];
  alice.on('console', (m) => m.text().includes('signaling message dropped') && drops.push(m.text()));
  const link = await startCall(alice);
  const secret = link.split('#')[1] as Secret;
  const [room, key] = await Promise.all([deriveRoomId(secret), deriveKey(secret)]);
  const me = newPeerId();
  const insider = await mqtt.connectAsync(`${server.url.replace('http', 'ws')}/mqtt`, {
    clientId: clientIdFor(room, me),
    ...credentials(room, me),
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  try {
    await insider.subscribeAsync(roomFilters(room), { qos: 1 });
    const fp = (byte: string) => Array(32).fill(byte).join(':');
    const sdp = (extra = '') => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${fp('AB')}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n${extra}`;
    const presence = (offerSdp: string) => JSON.stringify({ v: 1, from: me, session: 'insider', gen: 1, type: 'presence', offer: { type: 'offer', sdp: offerSdp } });
    const cases: Array<[reason: string, plaintext: string]> = [
      ['sdp-size', presence(sdp(`a=x-pad:${'y'.repeat(17 * 1024)}\r\n`))],
      ['fingerprint', presence(sdp(`a=fingerprint:sha-256 ${fp('CD')}\r\n`))],
      ['sdp-candidates', presence(sdp(Array.from({ length: 51 }, (_, i) => `a=candidate:${i} 1 udp 1 192.0.2.1 ${1000 + i} typ host\r\n`).join('')))],
      ['json', '{"v":1,"from":'],
    ];
    const topic = peerTopic(room, me, 'presence');
    for (const [, plaintext] of cases) await insider.publishAsync(topic, Buffer.from(await seal(key, topic, plaintext)), { qos: 1, retain: true });
    await expect.poll(() => drops.length, { message: 'alice drops every invalid message' }).toBe(cases.length);
    for (const [reason] of cases) expect(drops.some((d) => d.includes(reason)), reason).toBe(true);
    await expect(callScreen(alice)).toHaveAttribute('data-state', 'waiting');
  } finally {
    await insider.endAsync();
  }
  // The insider is gone (and its retained presence with it): a real person joins and the call works.
  const bob = await peer();
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await expectState(bob, 'connected');
  await expectFramesFlowing(alice);
});
