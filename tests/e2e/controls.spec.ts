import {
  connectedPair, expect, expectFramesFlowing, expectFramesStopped, negotiations, sentVideoLabel, stats, test,
} from './fixtures';

test('mute: the other side sees the badge and our outgoing audio track is disabled', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  await expect(bob.getByTestId('remote-muted')).toHaveCount(0);
  await alice.getByRole('button', { name: 'Mute microphone' }).click();
  // Each side says whose mute it is: theirs on their video, ours on our self view.
  await expect(bob.getByTestId('remote-muted')).toHaveText('They muted their mic');
  await expect(alice.getByTestId('self-muted')).toBeVisible();
  await expect(bob.getByTestId('self-muted')).toHaveCount(0);
  const badge = (await bob.getByTestId('remote-muted').boundingBox())!;
  const micButton = (await bob.getByRole('button', { name: 'Mute microphone' }).boundingBox())!;
  expect(badge.y + badge.height, 'the badge is nowhere near our own mic button').toBeLessThan(micButton.y - 100);
  expect((await stats(alice)).outboundAudioEnabled).toBe(false);
  await alice.getByRole('button', { name: 'Unmute microphone' }).click();
  await expect(bob.getByTestId('remote-muted')).toHaveCount(0);
  expect((await stats(alice)).outboundAudioEnabled).toBe(true);
});

test('camera off sends no frames and shows a placeholder; on again resumes without renegotiation', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  const before = [await negotiations(alice), await negotiations(bob)];
  await alice.getByRole('button', { name: 'Camera off' }).click();
  await expect(bob.getByTestId('remote-camera-off')).toBeVisible();
  await expectFramesStopped(bob);
  expect(await sentVideoLabel(alice)).toBeNull();

  await alice.getByRole('button', { name: 'Camera on' }).click();
  await expect(bob.getByTestId('remote-camera-off')).toHaveCount(0);
  await expectFramesFlowing(bob);
  expect([await negotiations(alice), await negotiations(bob)]).toEqual(before);
});

test('switch camera five times: frames keep flowing, no renegotiation, the broken camera is skipped', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  const before = [await negotiations(alice), await negotiations(bob)];
  const labels: Array<string | null> = [await sentVideoLabel(alice)];
  for (let i = 0; i < 5; i++) {
    const button = alice.getByRole('button', { name: 'Switch camera' });
    await button.click();
    await expect(button).toBeEnabled({ timeout: 15_000 });
    labels.push(await sentVideoLabel(alice));
    await expectFramesFlowing(bob, 10);
  }
  // Cameras alternate, and fake_device_1 (which stalls the encoder) is never left in use.
  for (let i = 1; i < labels.length; i++) expect(labels[i]).not.toBe(labels[i - 1]);
  expect(labels.slice(1)).not.toContain('fake_device_1');
  expect([await negotiations(alice), await negotiations(bob)]).toEqual(before);
});

test('screen share replaces the camera, fits on the other side, and the camera returns when it ends', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  const camera = await sentVideoLabel(alice);
  await alice.getByRole('button', { name: 'Share screen' }).click();
  await expect(alice.getByRole('button', { name: 'Stop sharing' })).toBeVisible();
  expect(await sentVideoLabel(alice)).not.toBe(camera);
  await expect(bob.getByTestId('remote-video')).toHaveCSS('object-fit', 'contain');
  await expectFramesFlowing(bob);
  // What Bob decodes really is the display capture: its full size (the camera
  // starts lower while bandwidth ramps up) at the ≤ 15 fps we ask screens for.
  const screen = await alice.evaluate(() => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed')!;
    const { width, height } = pc.getTransceivers().find((x) => x.receiver.track.kind === 'video')!.sender.track!.getSettings();
    return { width, height };
  });
  await expect.poll(async () => { const s = await stats(bob); return [s.frameWidth, s.frameHeight]; }).toEqual([screen.width, screen.height]);
  await expect.poll(async () => (await stats(bob)).framesPerSecond).toBeLessThanOrEqual(16);

  // The browser's own "Stop sharing" bar ends the track: the same path must bring the camera back.
  await alice.evaluate(() => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed')!;
    const track = pc.getTransceivers().find((x) => x.receiver.track.kind === 'video')!.sender.track!;
    track.stop();
    track.dispatchEvent(new Event('ended'));
  });
  await expect(alice.getByRole('button', { name: 'Share screen' })).toBeVisible();
  await expect.poll(() => sentVideoLabel(alice)).toBe(camera);
  await expect(bob.getByTestId('remote-video')).toHaveCSS('object-fit', 'cover');
  await expectFramesFlowing(bob);

  // And our own button.
  await alice.getByRole('button', { name: 'Share screen' }).click();
  await alice.getByRole('button', { name: 'Stop sharing' }).click();
  await expect.poll(() => sentVideoLabel(alice)).toBe(camera);
});

test('both sides show the same verification code and a Direct path with a numeric RTT', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  const codes: string[] = [];
  for (const page of [alice, bob]) {
    await page.getByRole('button', { name: /Call quality/ }).click();
    const code = page.getByTestId('verification-code');
    // Four symbols, each with its word (readable without an emoji font, and easy to say aloud).
    await expect(code.locator('li')).toHaveCount(4);
    for (const word of await code.locator('.word').allTextContents()) expect(word).toMatch(/^[a-z]+( [a-z]+)?$/);
    codes.push((await code.textContent())!);
    await expect(page.getByTestId('connection-path')).toHaveText('Direct');
    await expect(page.getByTestId('rtt')).toHaveText(/^\d+ ms$/);
  }
  expect(codes[0]).toBe(codes[1]);
  // Both sides opened each other's commitment against the fingerprint they negotiated (protocol v2).
  for (const page of [alice, bob]) await expect(page.getByTestId('call-screen')).toHaveAttribute('data-verification', 'ready');
  await expect(alice.getByTestId('verification-warning')).toHaveCount(0);
});
