/**
 * The network lab (tests/netlab/README.md): one peer in a network namespace
 * behind a capped, lossy link, the other on the root side, the real server
 * on the veth between them. What a person on a weak mobile link would notice:
 * does the sound hold, does video get out of its way, and does it come back.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { requireBinary } from '../helpers/binaries';
import { BASE_ARGS, chromiumPath, FAKE_MEDIA_ARGS } from '../helpers/chromium';
import { createNetns, type Netns } from '../helpers/netns';
import { freePort, startServer, type ServerProcess } from '../helpers/server';
import { ImpairedLink } from '../netlab/link';
import { expect, expectAudioFlowing, expectFramesFlowing, expectState, joinCall, newContext, startCall, test } from './fixtures';
import { delta, mediaBytes, type MediaBytes } from './media-stats';

const ip = requireBinary('ip', { aptPackage: 'iproute2' });
const tc = requireBinary('tc', { aptPackage: 'iproute2' });
const nft = requireBinary('nft', { aptPackage: 'nftables' });

let netns: Netns;
let link: ImpairedLink;
let server: ServerProcess;
let inside: Browser;
let outside: Browser;

const concealment = (d: MediaBytes) => (d.totalSamplesReceived > 0 ? d.concealedSamples / d.totalSamplesReceived : 1);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

test.describe('network lab', () => {
  test.skip(ip === null || tc === null || nft === null, 'needs ip, tc and nft (iproute2, nftables)');
  test.describe.configure({ timeout: 120_000 });

  test.beforeAll(async () => {
    netns = createNetns(ip!, nft!);
    link = new ImpairedLink(netns, { ip: ip!, tc: tc!, nft: nft! });
    server = await startServer({ HOST: netns.hostIp }, await freePort());
    // http://10.213.x.1 is not a secure context by default: tell both browsers to treat it as one.
    const args = [...BASE_ARGS, ...FAKE_MEDIA_ARGS, `--unsafely-treat-insecure-origin-as-secure=${server.url}`];
    inside = await chromium.launch({ executablePath: netns.chromium, args });
    outside = await chromium.launch({ executablePath: chromiumPath(), args });
  });

  test.afterEach(() => link?.clear());

  test.afterAll(async () => {
    await inside?.close();
    await outside?.close();
    await server?.stop();
    netns?.destroy();
  });

  /** Alice outside, Bob behind the lab link; both connected. */
  let t0 = 0;
  async function call(prefs?: object): Promise<{ alice: Page; bob: Page }> {
    const pages: Page[] = [];
    for (const browser of [outside, inside]) {
      const ctx = await newContext(browser, server.url);
      if (prefs) await ctx.addInitScript((p) => localStorage.setItem('tandem.callPrefs', p), JSON.stringify(prefs));
      pages.push(await ctx.newPage());
    }
    const [alice, bob] = pages as [Page, Page];
    t0 = Date.now();
    if (process.env.LAB_DIAG) for (const [n, p] of [['alice', alice], ['bob', bob]] as const) p.on('console', (m) => { if (/weak link/.test(m.text())) console.log(`${((Date.now() - t0) / 1000).toFixed(1)} ${n} ${m.text()}`); });
    await joinCall(bob, await startCall(alice));
    await expectState(alice, 'connected', 30_000);
    await expectState(bob, 'connected', 30_000);
    return { alice, bob };
  }

  /** LAB_DIAG: each side's bandwidth estimate and video send rate every 250 ms. */
  function estimates(alice: Page, bob: Page): { stop: () => void } {
    let on = true;
    const read = (p: Page) => p.evaluate(async () => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      const pc = [...pcs].reverse().find((x) => x.connectionState !== 'closed');
      let est = 0, vid = 0, aud = 0;
      (await pc!.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'candidate-pair' && s.nominated && typeof s.availableOutgoingBitrate === 'number') est = s.availableOutgoingBitrate as number;
        if (s.type === 'outbound-rtp' && s.kind === 'video') vid += s.bytesSent as number;
        if (s.type === 'outbound-rtp' && s.kind === 'audio') aud += s.bytesSent as number;
      });
      return { est, vid, aud, at: performance.now() };
    });
    void (async () => {
      let prev: [Awaited<ReturnType<typeof read>>, Awaited<ReturnType<typeof read>>] | null = null;
      while (on) {
        const cur = await Promise.all([read(alice), read(bob)]).catch(() => null);
        if (!cur) break;
        if (prev) {
          const f = (i: 0 | 1) => {
            const dt = (cur[i].at - prev![i].at) / 1000;
            return `est ${(cur[i].est / 1000).toFixed(0).padStart(5)} vid ${((cur[i].vid - prev![i].vid) * 8 / 1000 / dt).toFixed(0).padStart(4)} aud ${((cur[i].aud - prev![i].aud) * 8 / 1000 / dt).toFixed(0).padStart(3)}`;
          };
          console.log(`${((Date.now() - t0) / 1000).toFixed(2)} A ${f(0)} | B ${f(1)}`);
        }
        prev = cur;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    return { stop: () => { on = false; } };
  }

  async function both(alice: Page, bob: Page, ms: number): Promise<[MediaBytes, MediaBytes]> {
    const [a0, b0] = await Promise.all([mediaBytes(alice), mediaBytes(bob)]);
    await alice.waitForTimeout(ms); // the measurement window
    const [a1, b1] = await Promise.all([mediaBytes(alice), mediaBytes(bob)]);
    return [delta(a0, a1), delta(b0, b1)];
  }

  // The issue asks for < 5 % concealed. With plain Opus (FEC, DTX) it measured 3.0–5.7 % over 7 runs; with
  // redundant audio (RED, tracks.ts) 0.0–2.3 % over 4 runs (2026-12-05), so the issue's 5 % is the gate.
  test('audio only on 100 kbit/s with 5 % loss: sound holds (< 5 % concealed over 20 s), no video bytes either way', async () => {
    link.set({ rateKbit: 100, lossPct: 5 });
    const { alice, bob } = await call({ audioOnly: true });
    await expectAudioFlowing(alice, 50, 20_000);
    await expectAudioFlowing(bob, 50, 20_000);
    const [a, b] = await both(alice, bob, 20_000);
    console.log(`audio only, 100 kbit/s, 5 % loss: concealed ${pct(concealment(a))} (Alice hears) / ${pct(concealment(b))} (Bob hears)`);
    expect(concealment(a)).toBeLessThan(0.05);
    expect(concealment(b)).toBeLessThan(0.05);
    expect(a.totalSamplesReceived).toBeGreaterThan(48_000 * 15); // it really played sound for the window
    expect([a.videoSent, a.videoReceived, b.videoSent, b.videoReceived]).toEqual([0, 0, 0, 0]);
    await alice.context().close();
    await bob.context().close();
  });

  test('video call when the cap drops to 120 kbit/s: sound holds, video pauses with a notice or keeps > 5 fps, and is back within 10 s of the cap lifting', async () => {
    const { alice, bob } = await call();
    await expectFramesFlowing(alice, 30, 20_000);
    await expectFramesFlowing(bob, 30, 20_000);
    link.set({ rateKbit: 120, lossPct: 0 });
    const pollWeak = process.env.LAB_DIAG ? estimates(alice, bob) : null;
    // The first seconds after a sudden drop overflow the link's queue before
    // any sender can react (video was at ~300 kbit/s): audio loses packets in
    // every app. What we can do is get video out of the way at once, so the
    // sound holds from then on: steady state from 5 s after the drop.
    const [a0, b0] = await Promise.all([mediaBytes(alice), mediaBytes(bob)]);
    await alice.waitForTimeout(5_000); // the transition, measured below as part of the whole window
    const [a, b] = await both(alice, bob, 15_000);
    const [a1, b1] = await Promise.all([mediaBytes(alice), mediaBytes(bob)]);
    const [wa, wb] = [delta(a0, a1), delta(b0, b1)];
    console.log(`120 kbit/s: concealed, steady 15 s ${pct(concealment(a))} / ${pct(concealment(b))}; whole 20 s from the drop ${pct(concealment(wa))} / ${pct(concealment(wb))}`);
    expect(concealment(a)).toBeLessThan(0.05);
    expect(concealment(b)).toBeLessThan(0.05);
    expect(concealment(wa)).toBeLessThan(0.1);
    expect(concealment(wb)).toBeLessThan(0.1);
    // Each direction: paused with the notice on both screens, or still real video.
    const [a5, b5] = await both(alice, bob, 3_000);
    for (const [receiver, sender, d] of [[alice, bob, a5], [bob, alice, b5]] as const) {
      const paused = await receiver.getByTestId('remote-video-paused').isVisible();
      if (paused) await expect(sender.getByTestId('video-paused')).toHaveText('Video paused: weak connection');
      else expect(d.framesDecoded / d.at).toBeGreaterThan(5);
      console.log(`  ${receiver === alice ? 'Bob → Alice' : 'Alice → Bob'}: ${paused ? 'paused with notice' : `${(d.framesDecoded / d.at).toFixed(1)} fps`}`);
    }

    pollWeak?.stop();
    const poll = process.env.LAB_DIAG ? estimates(alice, bob) : null;
    link.clear();
    const lifted = Date.now();
    if (process.env.LAB_DIAG) console.log(`cap lifted at ${((lifted - t0) / 1000).toFixed(1)}`);
    // Back = the placeholder gone and new frames decoded, polled every 100 ms so the poll adds little to the time.
    const back = async (page: Page): Promise<number> => {
      await expect(page.getByTestId('remote-video-paused')).toHaveCount(0, { timeout: 15_000 });
      const from = (await mediaBytes(page)).framesDecoded;
      await expect.poll(async () => (await mediaBytes(page)).framesDecoded, { timeout: 5_000, intervals: [100] }).toBeGreaterThan(from + 5);
      return Date.now() - lifted;
    };
    const [toAlice, toBob] = await Promise.all([back(alice), back(bob)]);
    poll?.stop();
    console.log(`  video back ${toAlice} ms (Bob → Alice) and ${toBob} ms (Alice → Bob) after the cap lifted`);
    // The issue asks 10 s. Measured 2026-12-05 with probes judged on samples every 250 ms, flat probes
    // (no probe cluster from the browser) retried after 0.75 s, and a probe at once when the other side's
    // video comes back: both ways 2.1–7.2 s over 10 runs, median 3.5 (it was 5.4–10.4 s with one sample a second).
    expect(Math.max(toAlice, toBob)).toBeLessThanOrEqual(10_000);
    await alice.context().close();
    await bob.context().close();
  });
});
