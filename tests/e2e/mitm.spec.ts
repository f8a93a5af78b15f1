import { join } from 'node:path';
import type { AuthorizePublishHandler } from 'aedes';
import mqtt from 'mqtt';
import type { Browser, Page } from '@playwright/test';
import { clientIdFor, deriveKey, deriveRoomId, newSecret, open, parseClientId, peerTopic, PROTOCOL_VERSION, roomFilters, seal, toBase64Url, verificationCode, type Secret } from '../../protocol/index';
import { credentials, newPeerId } from '../helpers/peers';
import { cleanup, startTestServer, type TestServer } from '../helpers/broker';
import { REPO } from '../helpers/server';
import { callScreen, expect, expectFramesFlowing, expectState, joinCall, newContext, remoteFingerprint, startCall, test } from './fixtures';

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
 * code is what exposes it: Alice's covers (her cert, the attacker's), Bob's
 * (the attacker's other cert, his), each with nonces committed before either
 * was revealed. Real certificates from Chromium's WebRTC stack, 100 runs.
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
  const nonce = () => toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  let differ = 0;
  for (const r of runs) {
    const [na, nb, n1, n2] = [nonce(), nonce(), nonce(), nonce()];
    const honestA = await verificationCode({ fingerprint: r.alice, nonce: na }, { fingerprint: r.bob, nonce: nb });
    const honestB = await verificationCode({ fingerprint: r.bob, nonce: nb }, { fingerprint: r.alice, nonce: na });
    expect(honestA).toEqual(honestB); // no attacker: the codes match
    const aliceSees = await verificationCode({ fingerprint: r.alice, nonce: na }, { fingerprint: r.m1, nonce: n1 }); // her DTLS peer is the attacker
    const bobSees = await verificationCode({ fingerprint: r.m2, nonce: n2 }, { fingerprint: r.bob, nonce: nb });
    if (aliceSees.join('') !== bobSees.join('')) differ++;
  }
  expect(differ).toBe(100);
});

/**
 * The same attack end to end through the app: a relay that holds the key (the
 * test derives it from the link) opens every offer and answer, swaps its
 * a=fingerprint for an attacker's, re-seals and forwards it. Each side's
 * commitment binds its real certificate, which the other side never saw, so
 * both pages report the check as failed and show no code.
 */
test('through the app: a relay that swaps fingerprints makes both screens say the security check failed', async ({ browser }) => {
  test.setTimeout(90_000);
  const server = await startTestServer({ distDir: join(REPO, 'dist') });
  try {
    for (let run = 0; run < 3; run++) {
      const secret = newSecret();
      const key = await deriveKey(secret);
      const attacker = { offer: randomFingerprint(), answer: randomFingerprint() };
      const relay = swapFingerprints(server, key, attacker);
      relay.armed = true;
      const { alice, bob, close } = await callThrough(browser, server, secret);
      try {
        for (const page of [alice, bob]) {
          await expect(callScreen(page)).toHaveAttribute('data-verification', 'failed');
          await expect(page.getByTestId('verification-warning')).toContainText('Security check failed');
        }
        // What each page applied came through the relay.
        expect(await remoteFingerprint(alice)).toBe(attacker.answer);
        expect(await remoteFingerprint(bob)).toBe(attacker.offer);
      } finally {
        await close();
      }
    }
  } finally {
    await cleanup();
  }
});

/**
 * A relay that behaves until the two people have compared codes, then steps
 * in: it swaps the fingerprints in a mid-call ICE-restart offer and its
 * answer. Both screens must warn. Before that, an honest ICE restart keeps
 * the code and shows no warning (one certificate per page session).
 */
test('a fingerprint swapped in a mid-call ICE-restart offer shows the warning on both sides; an honest restart keeps the code', async ({ browser }) => {
  test.setTimeout(90_000);
  const server = await startTestServer({ distDir: join(REPO, 'dist') });
  const secret = newSecret();
  const relay = swapFingerprints(server, await deriveKey(secret), { offer: randomFingerprint(), answer: randomFingerprint() }, { withholdCandidates: false });
  const { alice, bob, close } = await callThrough(browser, server, secret);
  try {
    await expectState(alice, 'connected');
    await expectState(bob, 'connected');
    const codeOf = async (page: Page) => {
      await expect(callScreen(page)).toHaveAttribute('data-verification', 'ready');
      if ((await page.getByTestId('verification-code').count()) === 0) await page.getByRole('button', { name: /Call quality/ }).click();
      return (await page.getByTestId('verification-code').getAttribute('data-code'))!;
    };
    const code = await codeOf(alice);
    expect(await codeOf(bob)).toBe(code);

    // An honest ICE restart (Alice's network changed): same certificates, same code, no warning.
    const before = Number(await callScreen(alice).getAttribute('data-negotiations'));
    await alice.evaluate(() => dispatchEvent(new Event('online')));
    await expect.poll(async () => Number(await callScreen(alice).getAttribute('data-negotiations'))).toBeGreaterThan(before);
    await expectFramesFlowing(bob);
    expect([await codeOf(alice), await codeOf(bob)]).toEqual([code, code]);
    await expect(alice.getByTestId('verification-warning')).toHaveCount(0);

    // Now the relay steps in on the next restart.
    relay.armed = true;
    await alice.evaluate(() => dispatchEvent(new Event('online')));
    for (const page of [alice, bob]) {
      await expect(page.getByTestId('verification-warning')).toBeVisible();
      await expect(callScreen(page)).not.toHaveAttribute('data-verification', 'ready');
    }
    expect(relay.swapped).toBeGreaterThanOrEqual(2); // the offer and its answer
  } finally {
    await close();
    await cleanup();
  }
});

/** Alice opens the link and waits; Bob, in his own browser context, joins through `server`. */
async function callThrough(browser: Browser, server: TestServer, secret: string) {
  const a = await newContext(browser, server.url);
  const b = await newContext(browser, server.url);
  const close = () => Promise.all([a.close(), b.close()]);
  try {
    const alice = await a.newPage();
    const bob = await b.newPage();
    await joinCall(alice, `/call#${secret}`);
    await expectState(alice, 'waiting');
    await joinCall(bob, `/call#${secret}`);
    return { alice, bob, close };
  } catch (e) {
    await close();
    throw e;
  }
}

function randomFingerprint(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/**
 * The test's relay (never the product): while `armed`, re-seals every offer
 * and answer with the attacker's fingerprint. By default it also withholds
 * candidates, so ICE never starts and DTLS never fails: the first connection
 * stays on screen while the test reads it.
 */
function swapFingerprints(server: TestServer, key: CryptoKey, attacker: { offer: string; answer: string }, opts: { withholdCandidates?: boolean } = {}): { armed: boolean; swapped: number } {
  const withhold = opts.withholdCandidates ?? true;
  const state = { armed: false, swapped: 0 };
  const broker = server.broker as unknown as { authorizePublish: AuthorizePublishHandler };
  const original = (broker as { __original?: AuthorizePublishHandler }).__original ?? broker.authorizePublish;
  (broker as { __original?: AuthorizePublishHandler }).__original = original;
  const rewrite = (sdp: string, fp: string) => {
    const out = sdp.replace(/^a=fingerprint:sha-256 \S+/gm, `a=fingerprint:sha-256 ${fp}`);
    return withhold ? out.replace(/^a=candidate:.*\r\n/gm, '') : out;
  };
  broker.authorizePublish = (client, packet, done) =>
    original.call(server.broker, client, packet, (err) => {
      if (err || packet.payload.length === 0 || !state.armed) return done(err);
      void (async () => {
        try {
          const m = JSON.parse(await open(key, packet.topic, new Uint8Array(packet.payload as Buffer))) as {
            type: string;
            offer?: { sdp: string } | null;
            description?: { type: string; sdp: string };
          };
          if (m.type === 'candidate' && withhold) {
            packet.payload = Buffer.from('withheld by the relay'); // fails to open: dropped by the page
            done(null);
            return;
          }
          if (m.type === 'presence' && m.offer) m.offer.sdp = rewrite(m.offer.sdp, attacker.offer);
          if (m.type === 'description' && m.description) {
            m.description.sdp = rewrite(m.description.sdp, m.description.type === 'offer' ? attacker.offer : attacker.answer);
            state.swapped++;
          }
          packet.payload = Buffer.from(await seal(key, packet.topic, JSON.stringify(m)));
        } catch {
          // Not for this run's key (a page of an earlier run still closing): leave it.
        }
        done(null);
      })();
    });
  return state;
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
    const presence = (offerSdp: string) => JSON.stringify({ v: PROTOCOL_VERSION, from: me, session: 'insider', gen: 1, type: 'presence', offer: { type: 'offer', sdp: offerSdp } });
    const cases: Array<[reason: string, plaintext: string]> = [
      ['sdp-size', presence(sdp(`a=x-pad:${'y'.repeat(17 * 1024)}\r\n`))],
      ['fingerprint', presence(sdp(`a=fingerprint:sha-256 ${fp('CD')}\r\n`))],
      ['sdp-candidates', presence(sdp(Array.from({ length: 51 }, (_, i) => `a=candidate:${i} 1 udp 1 192.0.2.1 ${1000 + i} typ host\r\n`).join('')))],
      ['json', '{"v":2,"from":'],
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
