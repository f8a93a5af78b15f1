/**
 * Audio only, data saver and the pre-join choices (issue 14), measured in
 * getStats bytes between two real Chromium contexts through the real server.
 */
import type { Page } from '@playwright/test';
import { connectedPair, expect, expectAudioFlowing, expectFramesFlowing, expectState, negotiations, startCall, test } from './fixtures';
import { delta, mediaBytes, videoOutKbps, type MediaBytes } from './media-stats';

/** The same window on both pages. */
async function window2(a: Page, b: Page, ms: number): Promise<[MediaBytes, MediaBytes]> {
  const [a0, b0] = await Promise.all([mediaBytes(a), mediaBytes(b)]);
  await a.waitForTimeout(ms); // the measurement window
  const [a1, b1] = await Promise.all([mediaBytes(a), mediaBytes(b)]);
  return [delta(a0, a1), delta(b0, b1)];
}

/** Waits until no video RTP moves on `page` in either direction for a second (what was in flight has landed). */
async function videoQuiet(page: Page): Promise<void> {
  await expect.poll(async () => {
    const a = await mediaBytes(page);
    await page.waitForTimeout(1_000);
    const d = delta(a, await mediaBytes(page));
    return d.videoSent + d.videoReceived;
  }, { timeout: 10_000, message: 'video bytes stop in both directions' }).toBe(0);
}

test('audio only: no video bytes either way, both screens say so, no renegotiation; tapping again brings video back', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  const before = [await negotiations(alice), await negotiations(bob)];
  const button = alice.getByRole('button', { name: 'Audio only' });
  await expect(button).toHaveAttribute('aria-pressed', 'false');
  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'true');
  await expect(alice.getByTestId('audio-only')).toBeVisible();
  await expect(bob.getByTestId('audio-only')).toBeVisible();
  await videoQuiet(alice);
  await videoQuiet(bob);
  const [a, b] = await window2(alice, bob, 4_000);
  expect([a.videoSent, a.videoReceived, b.videoSent, b.videoReceived]).toEqual([0, 0, 0, 0]);
  // Sound goes on both ways.
  expect(a.audioReceived).toBeGreaterThan(0);
  expect(b.audioReceived).toBeGreaterThan(0);

  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'false');
  await expect(alice.getByTestId('audio-only')).toHaveCount(0);
  await expect(bob.getByTestId('audio-only')).toHaveCount(0);
  await expectFramesFlowing(alice, 10);
  await expectFramesFlowing(bob, 10);
  expect([await negotiations(alice), await negotiations(bob)]).toEqual(before);
});

test('data saver caps video both ways at 150 kbit/s, and the panel counts the MB used', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  // Without it the fake camera ramps well above the cap on loopback (so this test can fail).
  await expect.poll(async () => videoOutKbps((await window2(alice, bob, 1_000))[0]), { timeout: 20_000, message: 'video ramps up uncapped' }).toBeGreaterThan(400);

  await alice.getByRole('button', { name: /Call quality/ }).click();
  const used = alice.getByTestId('data-used');
  await expect(used).toHaveText(/^\d+\.\d MB$/);
  const saver = alice.getByRole('button', { name: 'Data saver' });
  await saver.click();
  await expect(saver).toHaveAttribute('aria-pressed', 'true');
  // The encoder takes a moment to follow the new cap; then measure a window on both sides.
  await expect.poll(async () => Math.max(...(await window2(alice, bob, 1_000)).map(videoOutKbps)), { timeout: 10_000 }).toBeLessThanOrEqual(165);
  const [a, b] = await window2(alice, bob, 5_000);
  for (const d of [a, b]) {
    expect(videoOutKbps(d)).toBeLessThanOrEqual(150 * 1.1);
    expect(d.framesDecoded).toBeGreaterThan(20); // still video, just cheaper
  }
  const mb = Number((await used.textContent())!.split(' ')[0]);
  expect(mb).toBeGreaterThan(0);
  await expect.poll(async () => Number((await used.textContent())!.split(' ')[0])).toBeGreaterThan(mb);
});

test('pre-join: camera and microphone off are honoured from the first packet, and remembered on the device', async ({ peer }) => {
  const alice = await peer();
  const bob = await peer();
  const link = await startCall(alice);
  await bob.goto(link);
  const choices = bob.getByRole('group', { name: 'How to join' });
  await choices.getByRole('button', { name: 'Microphone' }).click();
  await choices.getByRole('button', { name: 'Camera' }).click();
  await expect(choices.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'false');
  await expect(choices.getByRole('button', { name: 'Microphone' })).toHaveAttribute('aria-pressed', 'false');
  await bob.getByRole('button', { name: /^Join/ }).click();
  await expectState(alice, 'connected');
  await expectState(bob, 'connected');
  await expect(alice.getByTestId('remote-muted')).toBeVisible();
  await expect(alice.getByTestId('remote-camera-off')).toBeVisible();
  await expectAudioFlowing(alice, 50);
  // The fake microphone beeps: one packet of it would give Alice's receiver audio energy.
  const a = await mediaBytes(alice);
  const b = await mediaBytes(bob);
  expect(a.audioEnergy).toBe(0);
  expect([b.videoSent, a.videoReceived, a.framesDecoded]).toEqual([0, 0, 0]);

  // The next link Bob opens on this device starts the same way.
  const carol = await bob.context().newPage();
  await carol.goto(link.replace(/#.*/, '#') + 'A'.repeat(22));
  const again = carol.getByRole('group', { name: 'How to join' });
  await expect(again.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'false');
  await expect(again.getByRole('button', { name: 'Microphone' })).toHaveAttribute('aria-pressed', 'false');
  await expect(again.getByRole('button', { name: 'Audio only' })).toHaveAttribute('aria-pressed', 'false');
});

test('audio goes first: redundant audio (RED) over Opus with FEC and DTX, at high priority; a camera keeps frame rate, a screen keeps sharpness', async ({ peer }) => {
  const { alice } = await connectedPair(peer);
  const read = () => alice.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed')!;
    const report = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((s: Record<string, unknown>) => report.set(s.id as string, s));
    const out = [...report.values()].find((s) => s.type === 'outbound-rtp' && s.kind === 'audio');
    // Our Opus encoder follows the Opus fmtp of the description we applied from the other side (sdp.ts).
    const sdp = pc.remoteDescription?.sdp ?? '';
    const opusPt = /a=rtpmap:(\d+) opus\/48000/i.exec(sdp)?.[1];
    const fmtp = new RegExp(`a=fmtp:${opusPt} (.*)`).exec(sdp)?.[1] ?? '';
    const audio = pc.getSenders().find((s) => s.track?.kind === 'audio')!.getParameters().encodings[0] as RTCRtpEncodingParameters & { priority?: string; networkPriority?: string };
    const video = pc.getTransceivers().find((t) => t.receiver.track.kind === 'video')!.sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
    // What our audio sender uses: the first codec of the other side's m=audio (Chromium's stats name Opus even inside RED).
    const firstPt = /m=audio \S+ \S+ (\d+)/.exec(sdp)?.[1];
    const first = new RegExp(`a=rtpmap:${firstPt} ([^/\r\n]+)`).exec(sdp)?.[1] ?? '';
    const perPacket = Number(out?.bytesSent) / Math.max(1, Number(out?.packetsSent));
    return { first, perPacket, fmtp, priority: audio.priority, networkPriority: audio.networkPriority, degradation: video.degradationPreference };
  });
  await expect.poll(read).toMatchObject({ priority: 'high', networkPriority: 'high', degradation: 'maintain-framerate' });
  // Each packet carries the previous frame too (RED): a single loss costs no sound. Plain Opus packets of
  // this fake audio are ~57 bytes, with RED ~119 (measured): wait for the average to pass 90.
  await expect.poll(async () => (await read()).perPacket, { message: 'audio bytes per packet (RED doubles them)' }).toBeGreaterThan(90);
  const { fmtp, first } = await read();
  console.log('audio send codec', first, fmtp);
  expect(first.toLowerCase()).toBe('red');
  expect(fmtp).toMatch(/useinbandfec=1/);
  expect(fmtp).toMatch(/usedtx=1/);
  await alice.getByRole('button', { name: 'Share screen' }).click();
  await expect.poll(async () => (await read()).degradation).toBe('maintain-resolution');
});
