/**
 * Firefox ESR ↔ Chromium calls through the real server, both ways (either
 * browser starts the call). What each person would notice: the call
 * connects, each sees the other's video, mute / camera off / switch camera
 * show on the other side, both read the same verification code, and an ICE
 * restart (a network change) renegotiates without dropping the call.
 */
import { firefoxPath, launchFirefox, type Firefox } from '../helpers/firefox';
import {
  audioReceived, chromiumSide, codeText, firefoxSide, framesPresented, hasButton, negotiations, networkChange, sentVideoLabel, shown, state, verification, type Side,
} from './cross-browser';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

// Locally a missing firefox-esr skips; with CI=true firefoxPath() throws, so the file fails.
const executable = firefoxPath();
test.skip(executable === null, 'firefox-esr is not installed');

let firefox: Firefox;
test.beforeAll(async () => {
  firefox = await launchFirefox(executable!);
});
test.afterAll(async () => {
  await firefox?.close();
});

async function expectState(s: Side, want: string, timeout = 15_000): Promise<void> {
  try {
    await expect.poll(() => state(s), { message: `${s.name} data-state`, timeout }).toBe(want);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${s.name} shows ${await s.describe()}`, { cause: e });
  }
}
const expectShown = (s: Side, testId: string, count: number) => expect.poll(() => shown(s, testId), { message: `${s.name} shows ${testId}` }).toBe(count);

async function expectFramesFlowing(s: Side, more = 10): Promise<void> {
  const start = await framesPresented(s);
  await expect.poll(() => framesPresented(s), { message: `${s.name} shows remote video`, timeout: 15_000 }).toBeGreaterThan(start + more);
}

/**
 * The other side's camera is really off: at most 3 frames in 2 s. Not zero:
 * Firefox keeps sending about one black frame a second from a sender whose
 * track is null (Chromium sends none); a camera sends 30.
 */
async function expectFramesStopped(s: Side): Promise<void> {
  const samples: Array<[number, number]> = [];
  await expect
    .poll(async () => {
      samples.push([Date.now(), await framesPresented(s)]);
      const [t1, f1] = samples.at(-1)!;
      const first = samples.find(([t]) => t1 - t <= 2000)!;
      return t1 - first[0] >= 1750 ? f1 - first[1] : Infinity;
    }, { message: `${s.name} stops decoding the other camera`, intervals: [250], timeout: 10_000 })
    .toBeLessThanOrEqual(3);
}

async function startCall(s: Side): Promise<string> {
  await s.goto('/');
  await s.click('Start a call');
  // Camera and broker from a cold page. Two CI runs of 2026-12-05 saw no call screen in Firefox
  // 15 s after the tap (another took 22 s for the whole test): a failure now says what it showed.
  const tapped = Date.now();
  await expectState(s, 'waiting', 30_000);
  console.log(`${s.name} waiting ${Date.now() - tapped} ms after Start a call`);
  const link = await s.run(() => document.querySelector('[data-testid=call-link]')?.textContent ?? '');
  expect(link).toMatch(/\/call#/);
  return link;
}

async function join(s: Side, link: string): Promise<void> {
  await s.goto(link);
  await s.click(/^Join/);
}

async function shownCode(s: Side): Promise<string> {
  await expect.poll(() => verification(s), { message: `${s.name} verification` }).toBe('ready');
  if ((await codeText(s)) === null) await s.click('Call quality and verification');
  return (await codeText(s)) ?? '';
}

/**
 * Everything both directions check: `actor` uses the controls, `viewer` sees
 * the result, `restarter`'s network changes (it offers the ICE restart; null:
 * no restart, see the known bug at the end of this file).
 */
async function checkCall(starter: Side, joiner: Side, actor: Side, viewer: Side, restarter: Side | null): Promise<void> {
  await join(joiner, await startCall(starter));
  await expectState(starter, 'connected');
  await expectState(joiner, 'connected');
  await expectFramesFlowing(starter);
  await expectFramesFlowing(joiner);
  // And hear each other: 2 s more of sound decoded each way, almost none of it made up (whatever audio codec they agreed on).
  for (const s of [starter, joiner]) {
    const before = await audioReceived(s);
    await expect.poll(async () => (await audioReceived(s)).samples - before.samples, { message: `${s.name} decodes the other's audio`, timeout: 10_000 }).toBeGreaterThan(2 * 48_000);
    const after = await audioReceived(s);
    console.log(`${s.name} receives ${after.codec}: ${(((after.concealed - before.concealed) / (after.samples - before.samples)) * 100).toFixed(1)} % concealed`);
    expect((after.concealed - before.concealed) / (after.samples - before.samples), `${s.name}: concealed share of the sound`).toBeLessThan(0.2);
  }

  const code = await shownCode(starter);
  expect(code.split(' ')).toHaveLength(4);
  expect(await shownCode(joiner)).toBe(code);

  await actor.click('Mute microphone');
  await expectShown(viewer, 'remote-muted', 1);
  await actor.click('Unmute microphone');
  await expectShown(viewer, 'remote-muted', 0);

  await actor.click('Camera off');
  await expectShown(viewer, 'remote-camera-off', 1);
  expect(await sentVideoLabel(actor)).toBeNull(); // the camera's images no longer leave the device
  await expectFramesStopped(viewer);
  await actor.click('Camera on');
  await expectShown(viewer, 'remote-camera-off', 0);
  await expectFramesFlowing(viewer);

  // Switch camera where the browser has more than one (Chromium's fake devices;
  // Firefox's fake media has one camera, so it shows no Switch button).
  let switched = 0;
  for (const [switcher, other] of [[actor, viewer], [viewer, actor]] as const) {
    if (!(await hasButton(switcher, 'Switch camera'))) continue;
    switched++;
    const before = await sentVideoLabel(switcher);
    await switcher.click('Switch camera');
    await expect.poll(() => sentVideoLabel(switcher), { message: `${switcher.name} sends another camera` }).not.toBe(before);
    await expectFramesFlowing(other);
  }
  expect(switched, 'a side with several cameras switched').toBeGreaterThan(0);

  if (restarter === null) return;
  // A network change on the restarter's side: an ICE restart, i.e. one more offer and answer.
  const sent = async () => (await negotiations(starter)) + (await negotiations(joiner));
  const before = await sent();
  await networkChange(restarter);
  await expect.poll(sent, { message: 'an ICE restart offer and answer' }).toBeGreaterThanOrEqual(before + 2);
  await expectFramesFlowing(starter);
  await expectFramesFlowing(joiner);
  expect([await state(starter), await state(joiner)]).toEqual(['connected', 'connected']);
  expect(await shownCode(joiner)).toBe(code);
}

/** A Chromium page from the suite's browser and a Firefox tab, closed after `fn`. */
async function withSides(peer: () => Promise<Page>, baseURL: string, fn: (chromium: Side, ff: Side) => Promise<void>): Promise<void> {
  const chromium = chromiumSide(await peer());
  const ff = await firefoxSide(firefox.browser, baseURL);
  try {
    await fn(chromium, ff);
  } finally {
    await ff.page.close().catch(() => undefined);
  }
}

test('Chromium starts the call, Firefox joins', async ({ peer, server }) => {
  await withSides(peer, server.url, (chromium, ff) => checkCall(chromium, ff, ff, chromium, null));
});

test('Firefox starts the call, Chromium joins', async ({ peer, server }) => {
  await withSides(peer, server.url, (chromium, ff) => checkCall(ff, chromium, chromium, ff, chromium));
});

/**
 * A bug this file found (2026-12-05, Chromium 156 / Firefox ESR 153): in a
 * call Chromium started, Firefox's Camera off then Camera on before an ICE
 * restart leaves one direction dead after the restart, audio too, while ICE
 * stays `connected` (getStats: Chromium's new candidate pair `succeeded` with
 * 0 bytes received; Firefox lists no candidate pair). It froze 3 of 3 runs.
 * The app now watches for it (quality.ts: connected, yet no RTP for 4 s →
 * an ICE restart, and if that doesn't help, a fresh connection), and this
 * test proves the call comes back: 4 of 4 runs.
 */
test('Chromium starts the call, Firefox joins, and after an ICE restart video flows both ways again', async ({ peer, server }) => {
  await withSides(peer, server.url, (chromium, ff) => checkCall(chromium, ff, ff, chromium, chromium));
});
