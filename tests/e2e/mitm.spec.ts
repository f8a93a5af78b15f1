import { join } from 'node:path';
import type { AuthorizePublishHandler } from 'aedes';
import { parseClientId, verificationCode } from '../../protocol/index';
import { cleanup, startTestServer, type TestServer } from '../helpers/broker';
import { REPO } from '../helpers/server';
import { expect, expectState, joinCall, newContext, startCall, test } from './fixtures';

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
