import type { Browser } from '@playwright/test';
import { findTurnutils } from '../helpers/binaries';
import { startCoturn, type Coturn } from '../helpers/coturn';
import { startServer, type ServerProcess } from '../helpers/server';
import { expect, expectFramesFlowing, expectState, joinCall, newContext, startCall, stats, test } from './fixtures';

/**
 * Relay-only calls through a real coturn, with short-lived credentials that
 * our server issues from /api/ice. The harness config allows loopback peers
 * (test only: both browsers and the relay are on this machine).
 */
const turnutils = findTurnutils();

test.describe('TURN relay', () => {
  test.skip(turnutils === null, 'needs coturn (apt-get install -y coturn)');
  let turn: Coturn;

  test.beforeAll(async () => {
    turn = await startCoturn({ allowLoopbackPeers: true });
  });
  test.afterAll(async () => {
    await turn?.stop();
  });

  /** Alice and Bob each switch Relay only on at Home, as a person would; then Alice starts a call and Bob joins it. */
  async function relayOnlyCall(browser: Browser, url: string) {
    const contexts = [await newContext(browser, url), await newContext(browser, url)];
    const close = async () => {
      for (const c of contexts) await c.close();
    };
    try {
      const [alice, bob] = [await contexts[0]!.newPage(), await contexts[1]!.newPage()];
      for (const page of [alice, bob]) {
        await page.goto('/');
        await page.getByRole('button', { name: 'Relay only: off' }).click();
        await expect(page.getByRole('button', { name: /^Relay only: on/ })).toHaveAttribute('aria-pressed', 'true');
      }
      const link = await startCall(alice);
      await joinCall(bob, link);
      return { alice, bob, link, close };
    } catch (e) {
      await close();
      throw e;
    }
  }

  async function withServer(env: Record<string, string>, fn: (s: ServerProcess) => Promise<void>) {
    const server = await startServer(env);
    try {
      await fn(server);
    } finally {
      await server.stop();
    }
  }

  test('a relay-only call connects through coturn with our credentials, and says Relayed', async ({ browser }) => {
    await withServer({ TURN_URLS: turn.url('udp'), TURN_SECRET: turn.secret, TURN_TTL: '600' }, async (server) => {
      const { alice, bob, link, close } = await relayOnlyCall(browser, server.url);
      try {
        await expectState(alice, 'connected', 20_000);
        await expectState(bob, 'connected', 20_000);
        await expectFramesFlowing(alice);
        await expectFramesFlowing(bob);
        expect((await stats(alice)).candidateType).toBe('relay');
        expect((await stats(bob)).candidateType).toBe('relay');
        await alice.getByRole('button', { name: /Call quality/ }).click();
        await expect(alice.getByTestId('connection-path')).toHaveText('Relayed');
        // The secret never reaches the page, and the logs hold neither it, the
        // credential the page was issued, nor the call secret.
        const html = await alice.content();
        expect(html).not.toContain(turn.secret);
        const { issued, policy } = await alice.evaluate(() => {
          const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
          const config = [...pcs].reverse().find((p) => p.connectionState !== 'closed')!.getConfiguration();
          return { issued: config.iceServers?.find((s) => s.credential)?.credential as string | undefined, policy: config.iceTransportPolicy };
        });
        expect(issued).toBeTruthy();
        expect(policy).toBe('relay');
        const log = server.output();
        for (const secret of [turn.secret, issued!, link.split('#')[1]!]) expect(log).not.toContain(secret);
      } finally {
        await close();
      }
    });
  });

  test('a credential coturn refuses (wrong secret) ends in a clear error instead of spinning', async ({ browser }) => {
    test.setTimeout(90_000);
    await withServer({ TURN_URLS: turn.url('udp'), TURN_SECRET: 'not-the-coturn-secret-0123456789' }, async (server) => {
      const { bob, close } = await relayOnlyCall(browser, server.url);
      try {
        await expectState(bob, 'error', 40_000);
        await expect(bob.getByRole('alert')).toContainText('Couldn’t connect to the other person');
        await expect(bob.getByRole('button', { name: 'Try again' })).toBeVisible();
        await turn.waitForLog(/401/);
      } finally {
        await close();
      }
    });
  });
});
