/**
 * Sound output (issue 14): each control appears only where the browser can
 * do it, and does what it says. Chromium has setSinkId; the other browsers
 * are this Chromium with those APIs removed (or added) before the app loads.
 */
import { connectedPair, expect, negotiations, test } from './fixtures';
import type { Page } from '@playwright/test';

const details = async (page: Page) => {
  await page.getByRole('button', { name: /Call quality/ }).click();
  return page.getByRole('region', { name: 'Call details' });
};

test('where setSinkId exists: a Sound output list, and choosing one plays the call there', async ({ peer }) => {
  const { alice } = await connectedPair(peer);
  const panel = await details(alice);
  const select = panel.getByLabel('Sound output');
  await expect(select).toBeVisible();
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(options.length).toBeGreaterThan(0);
  await expect(panel.getByLabel('Microphone and sound (headset)')).toHaveCount(0);
  const target = options[options.length - 1]!;
  await select.selectOption(target);
  await expect.poll(() => alice.getByTestId('remote-video').evaluate((v) => (v as HTMLMediaElement & { sinkId: string }).sinkId)).toBe(target);
});

test('where no output can be chosen (Android Chrome): no output list; a headset microphone moves the sound, without renegotiation', async ({ peer }) => {
  const { alice, bob } = await connectedPair(peer);
  // Simulate a browser without setSinkId/selectAudioOutput from the first script on: reload into the same call.
  await alice.context().addInitScript(() => {
    delete (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId;
    delete (MediaDevices.prototype as { selectAudioOutput?: unknown }).selectAudioOutput;
  });
  await alice.reload();
  await expect(alice.getByTestId('call-screen')).toHaveAttribute('data-state', 'connected', { timeout: 20_000 });
  const panel = await details(alice);
  await expect(panel.getByLabel('Sound output')).toHaveCount(0);
  await expect(panel.getByRole('button', { name: 'Choose sound output' })).toHaveCount(0);
  const mic = panel.getByLabel('Microphone and sound (headset)');
  await expect(mic).toBeVisible();
  const before = [await negotiations(alice), await negotiations(bob)];
  const sentMic = () => alice.evaluate(() => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
    return pc?.getSenders().find((s) => s.track?.kind === 'audio')?.track?.getSettings().deviceId ?? null;
  });
  const ids = await mic.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  const current = await sentMic();
  const next = ids.find((id) => id !== current);
  expect(next).toBeDefined();
  await mic.selectOption(next!);
  await expect.poll(sentMic).toBe(next);
  expect([await negotiations(alice), await negotiations(bob)]).toEqual(before);
});

test("where selectAudioOutput exists but setSinkId doesn't: the browser's own picker is offered", async ({ peer }) => {
  const alice = await peer();
  await alice.context().addInitScript(() => {
    delete (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId;
    (MediaDevices.prototype as unknown as { selectAudioOutput: () => Promise<unknown> }).selectAudioOutput = () => Promise.reject(new DOMException('dismissed', 'NotAllowedError'));
  });
  const bob = await peer();
  const { startCall, joinCall, expectState } = await import('./fixtures');
  await joinCall(bob, await startCall(alice));
  await expectState(alice, 'connected');
  const panel = await details(alice);
  await expect(panel.getByRole('button', { name: 'Choose sound output' })).toBeVisible();
  await expect(panel.getByLabel('Sound output')).toHaveCount(0);
});

test('Safari: navigator.audioSession becomes play-and-record where it exists', async ({ peer }) => {
  const alice = await peer();
  await alice.context().addInitScript(() => {
    Object.defineProperty(navigator, 'audioSession', { value: { type: 'auto' }, configurable: true });
  });
  await alice.goto('/');
  await alice.getByRole('button', { name: 'Start a call' }).click();
  await expect(alice.getByTestId('call-screen')).toHaveAttribute('data-state', 'waiting');
  expect(await alice.evaluate(() => (navigator as unknown as { audioSession: { type: string } }).audioSession.type)).toBe('play-and-record');
});
