import type { Browser, Page } from '@playwright/test';
import { callScreen, expect, expectFramesFlowing, expectState, joinCall, newContext, recordStates, startCall, test } from './fixtures';

/**
 * What the call does with the phone around it: the screen wake lock, the
 * OS call controls (Media Session), a camera the OS took away while the
 * page was hidden, and a browser that blocks sound until a tap. Wake Lock
 * and Media Session are stubbed by an init script that records what the app
 * asks of them (headless Chromium has no lock screen to show them on).
 */
const PLATFORM_STUBS = `(() => {
  const wake = { requests: 0, releases: 0, last: null };
  Object.defineProperty(window, '__wake', { value: wake });
  Object.defineProperty(navigator, 'wakeLock', { configurable: true, value: {
    request: async () => {
      wake.requests++;
      const s = new EventTarget();
      s.release = async () => { wake.releases++; s.dispatchEvent(new Event('release')); };
      wake.last = s;
      return s;
    },
  } });
  const ms = { handlers: {}, mic: [], cam: [] };
  Object.defineProperty(window, '__ms', { value: ms });
  Object.defineProperty(navigator, 'mediaSession', { configurable: true, value: {
    metadata: null, playbackState: 'none',
    setActionHandler: (action, fn) => { ms.handlers[action] = fn; },
    setMicrophoneActive: async (on) => { ms.mic.push(on); },
    setCameraActive: async (on) => { ms.cam.push(on); },
  } });
})();`;

type Recorded = { wake: { requests: number; releases: number }; handlers: string[]; mic: boolean[]; cam: boolean[] };
const recorded = (page: Page): Promise<Recorded> =>
  page.evaluate(() => {
    const w = window as unknown as { __wake: Recorded['wake']; __ms: { handlers: Record<string, unknown>; mic: boolean[]; cam: boolean[] } };
    return {
      wake: { requests: w.__wake.requests, releases: w.__wake.releases },
      handlers: Object.entries(w.__ms.handlers).filter(([, fn]) => typeof fn === 'function').map(([a]) => a).sort(),
      mic: [...w.__ms.mic],
      cam: [...w.__ms.cam],
    };
  });

const sentVideoTrackState = (page: Page) =>
  page.evaluate(() => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed')!;
    const t = pc.getSenders().find((s) => s.track?.kind === 'video')?.track;
    return t ? `${t.id}:${t.readyState}` : 'none';
  });

/**
 * Alice (with `aliceScript` injected before any page script) calls Bob; resolves
 * once both are connected and decoding. `close()` ends both contexts.
 */
async function callWith(browser: Browser, url: string, aliceScript: string, bobScript = '') {
  const a = await newContext(browser, url);
  const b = await newContext(browser, url);
  if (aliceScript) await a.addInitScript(aliceScript);
  if (bobScript) await b.addInitScript(bobScript);
  const close = async () => {
    await a.close();
    await b.close();
  };
  try {
    const alice = await a.newPage();
    const bob = await b.newPage();
    const link = await startCall(alice);
    await joinCall(bob, link);
    await expectState(alice, 'connected');
    await expectState(bob, 'connected');
    await expectFramesFlowing(alice);
    await expectFramesFlowing(bob);
    return { alice, bob, close };
  } catch (e) {
    await close();
    throw e;
  }
}

test('keeps the screen on, answers the OS call controls, and takes the camera back after the page was hidden', async ({ browser, server }) => {
  const { alice, bob, close } = await callWith(browser, server.url, PLATFORM_STUBS);
  try {

    // Wake lock held for the call, and the OS call controls are wired up.
    let r = await recorded(alice);
    expect(r.wake.requests).toBe(1);
    expect(r.handlers).toEqual(['hangup', 'togglecamera', 'togglemicrophone']);

    // Our mute button tells the OS; the OS's mute toggle works like ours.
    await alice.getByRole('button', { name: 'Mute microphone' }).click();
    await expect.poll(async () => (await recorded(alice)).mic.at(-1)).toBe(false);
    await expect(bob.getByTestId('remote-muted')).toBeVisible();
    await alice.evaluate(() => (window as unknown as { __ms: { handlers: Record<string, () => void> } }).__ms.handlers.togglemicrophone!());
    await expect(alice.getByRole('button', { name: 'Mute microphone' })).toBeVisible();
    await expect(bob.getByTestId('remote-muted')).toHaveCount(0);
    expect((await recorded(alice)).mic.at(-1)).toBe(true);

    // The system drops the lock while the page is hidden; back to visible, it is asked for again.
    await alice.evaluate(async () => {
      const w = (window as unknown as { __wake: { last: { release(): Promise<void> } } }).__wake;
      await w.last.release();
    });
    // ...and the OS ended the camera meanwhile (phones do): it is reopened and sent again.
    const before = await sentVideoTrackState(alice);
    await alice.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed')!;
      pc.getSenders().find((s) => s.track?.kind === 'video')!.track!.stop();
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expect.poll(async () => (await recorded(alice)).wake.requests).toBe(2);
    await expect.poll(() => sentVideoTrackState(alice)).toMatch(/:live$/);
    expect(await sentVideoTrackState(alice)).not.toBe(before);
    await expectFramesFlowing(bob);
    await expect(callScreen(alice)).toHaveAttribute('data-state', 'connected');

    // Hang up from the OS controls: Home, the other side waits, lock and handlers released.
    await alice.evaluate(() => (window as unknown as { __ms: { handlers: Record<string, () => void> } }).__ms.handlers.hangup!());
    await expect(alice.getByRole('button', { name: 'Start a call' })).toBeVisible();
    await expectState(bob, 'waiting');
    r = await recorded(alice);
    expect(r.wake.releases).toBeGreaterThanOrEqual(2);
    expect(r.handlers).toEqual([]);
  } finally {
    await close();
  }
});

/**
 * Chromium lets a page that captures the camera play sound without a tap;
 * iOS Safari and stricter policies don't. This init script applies that
 * stricter policy (sound only after a user activation in this document).
 */
const STRICT_AUTOPLAY = `(() => {
  // Per document: Chromium's own sticky activation survives a same-origin reload.
  let tapped = false;
  addEventListener('pointerdown', () => { tapped = true; }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    if (!this.muted && !tapped) return Promise.reject(new DOMException('play() with sound needs a tap', 'NotAllowedError'));
    return play.call(this);
  };
})();`;

test('where sound needs a tap, a reload rejoins without one: the picture plays muted under "Tap to unmute", and the tap brings the sound', async ({ browser, server }) => {
  const { bob, close } = await callWith(browser, server.url, '', STRICT_AUTOPLAY); // Bob's Join tap allows sound
  try {
    await expect(bob.getByTestId('remote-video')).toHaveJSProperty('muted', false);
    await expect(bob.getByRole('button', { name: 'Tap to unmute' })).toHaveCount(0);

    await bob.reload(); // straight back into the call, no tap
    await expectState(bob, 'connected');
    const overlay = bob.getByRole('button', { name: 'Tap to unmute' });
    await expect(overlay).toBeVisible();
    const remote = bob.getByTestId('remote-video');
    await expect(remote).toHaveJSProperty('muted', true);
    await expect(remote).toHaveJSProperty('paused', false); // a moving picture, not a black box
    await expectFramesFlowing(bob);
    await overlay.click();
    await expect(overlay).toHaveCount(0);
    await expect(remote).toHaveJSProperty('muted', false);
    await expect(remote).toHaveJSProperty('paused', false);
  } finally {
    await close();
  }
});

/** A NetworkInformation whose type the test sets (Chromium on Linux reports none). */
const CONNECTION_STUB = `(() => {
  const c = new EventTarget();
  c.type = 'wifi';
  c.effectiveType = '4g';
  Object.defineProperty(navigator, 'connection', { configurable: true, value: c });
})();`;

test('a network change restarts ICE at once without interrupting a healthy call; a mere bandwidth estimate does not', async ({ browser, server }) => {
  const { alice, bob, close } = await callWith(browser, server.url, CONNECTION_STUB);
  try {
    // Every data-state this page shows from now on.
    const states = await recordStates(alice);
    const count = async () => Number(await callScreen(alice).getAttribute('data-negotiations')) + Number(await callScreen(bob).getAttribute('data-negotiations'));
    const change = (type: string) =>
      alice.evaluate((t) => {
        const c = (navigator as unknown as { connection: EventTarget & { type: string; effectiveType: string } }).connection;
        c.type = t;
        c.effectiveType = c.effectiveType === '4g' ? '3g' : '4g';
        c.dispatchEvent(new Event('change'));
      }, type);

    // Same type, new estimate (Android fires these often): nothing to do. The
    // other page's frames flowing is the barrier: a restart would have been sent by now.
    const before = await count();
    await change('wifi');
    await expectFramesFlowing(bob);
    expect(await count()).toBe(before);

    // Wi-Fi → cellular, and the browser's own `online`: each an ICE restart
    // (a new offer and answer), media flowing throughout, the state never leaving `connected`.
    await change('cellular');
    await expect.poll(count).toBeGreaterThanOrEqual(before + 2);
    await alice.evaluate(() => dispatchEvent(new Event('online')));
    await expect.poll(count).toBeGreaterThanOrEqual(before + 4);
    await expectFramesFlowing(bob);
    await expectFramesFlowing(alice);
    expect(await states()).toEqual([]);
    await expect(callScreen(alice)).toHaveAttribute('data-state', 'connected');
  } finally {
    await close();
  }
});
