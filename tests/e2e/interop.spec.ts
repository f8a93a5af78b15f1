/**
 * Calls between the app in Chromium and a client that isn't ours
 * (tests/interop/: werift + mqtt.js + node:crypto, written from
 * protocol/README.md alone), through the real server process. If the page
 * left out something a client must know, one of these fails.
 */
import { once } from 'node:events';
import type { Page } from '@playwright/test';
import { InteropClient } from '../interop/client';
import { newSecret } from '../interop/wire';
import { startStun, type Stun } from '../interop/stun';
import { callScreen, expect, expectState, startCall, test } from './fixtures';

let stun: Stun;
/** The interop client's log, printed only when a test fails (as fixtures.ts does for pages). */
let lines: string[] = [];
const log = (line: string) => void lines.push(line);
test.beforeEach(() => {
  lines = [];
});
test.afterEach(({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) console.log(lines.join('\n'));
});
test.beforeAll(async () => {
  stun = await startStun();
});
test.afterAll(async () => {
  await stun.close();
});

/** The code the app shows in the call details (the quality panel). */
async function shownCode(page: Page): Promise<string> {
  await expect(callScreen(page)).toHaveAttribute('data-verification', 'ready');
  if ((await page.getByTestId('verification-code').count()) === 0) await page.getByRole('button', { name: /Call quality/ }).click();
  return (await page.getByTestId('verification-code').getAttribute('data-code')) ?? '';
}

/** What each call must show: connected, the app's video reaching werift, and one code on both sides. */
async function expectGoodCall(page: Page, client: InteropClient): Promise<void> {
  await expectState(page, 'connected');
  const packets = client.videoPackets;
  await expect.poll(() => client.videoPackets, { message: 'RTP video reaching the werift client' }).toBeGreaterThan(packets + 20);
  const code = client.code ?? (await once(client, 'code', { signal: AbortSignal.timeout(15_000) }))[0];
  expect(code).toHaveLength(4);
  expect(await shownCode(page)).toBe(code.join(' '));
}

test('Chromium starts the call, the werift client joins with the link', async ({ peer, server }) => {
  const page = await peer();
  const link = await startCall(page);
  const secret = new URL(link).hash.slice(1);
  const client = new InteropClient({ origin: server.url, secret, fallbackIceServers: [{ urls: stun.url }], log });
  try {
    await client.enter();
    // The app's retained offer arrives with the SUBACK; the client answers it.
    await expectGoodCall(page, client);
    // A network change on the app's side: its ICE-restart offer, answered by werift with fresh ICE credentials.
    const ufrag = () => page.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
      return pc?.signalingState === 'stable' ? /^a=ice-ufrag:(\S+)/m.exec(pc.currentRemoteDescription?.sdp ?? '')?.[1] ?? null : null;
    });
    const before = await ufrag();
    expect(before).not.toBeNull();
    const offers = Number(await callScreen(page).getAttribute('data-negotiations'));
    await page.evaluate(() => dispatchEvent(new Event('online')));
    await expect(callScreen(page)).toHaveAttribute('data-negotiations', String(offers + 1));
    // null while the restart offer is out (not stable): wait for a stable connection with the new ufrag.
    await expect.poll(async () => { const now = await ufrag(); return now !== null && now !== before; }, { message: 'the app applied werift\'s ICE-restart answer' }).toBe(true);
    const packets = client.videoPackets;
    await expect.poll(() => client.videoPackets, { message: 'RTP video after the restart' }).toBeGreaterThan(packets + 20);
    await expectState(page, 'connected');
    expect(await shownCode(page)).toBe(client.code!.join(' ')); // same certificates, same code
  } finally {
    await client.close();
  }
});

test('the werift client waits with a retained offer, Chromium opens the link and joins', async ({ peer, server }) => {
  const secret = newSecret();
  const client = new InteropClient({ origin: server.url, secret, fallbackIceServers: [{ urls: stun.url }], log });
  try {
    await client.enter();
    await client.waitWithOffer();
    const page = await peer();
    await page.goto(`/call#${secret}`);
    await page.getByRole('button', { name: /^Join/ }).click();
    await expectGoodCall(page, client);
  } finally {
    await client.close();
  }
});
