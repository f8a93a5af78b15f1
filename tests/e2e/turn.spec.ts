import type { Browser, BrowserContext } from '@playwright/test';
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

  async function relayOnlyContext(browser: Browser, url: string): Promise<BrowserContext> {
    const ctx = await newContext(browser, url);
    await ctx.addInitScript(() => localStorage.setItem('tandem.relayOnly', '1'));
    return ctx;
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
      const a = await relayOnlyContext(browser, server.url);
      const b = await relayOnlyContext(browser, server.url);
      try {
        const alice = await a.newPage();
        const bob = await b.newPage();
        const link = await startCall(alice);
        await joinCall(bob, link);
        await expectState(alice, 'connected', 20_000);
        await expectState(bob, 'connected', 20_000);
        await expectFramesFlowing(alice);
        await expectFramesFlowing(bob);
        expect((await stats(alice)).candidateType).toBe('relay');
        expect((await stats(bob)).candidateType).toBe('relay');
        await alice.getByRole('button', { name: /Call quality/ }).click();
        await expect(alice.getByTestId('connection-path')).toHaveText('Relayed');
        // The secret never reaches the page, and the logs hold no credential.
        const html = await alice.content();
        expect(html).not.toContain(turn.secret);
        expect(server.output()).not.toContain(turn.secret);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  test('a credential coturn refuses (wrong secret) ends in a clear error instead of spinning', async ({ browser }) => {
    test.setTimeout(90_000);
    await withServer({ TURN_URLS: turn.url('udp'), TURN_SECRET: 'not-the-coturn-secret-0123456789' }, async (server) => {
      const a = await relayOnlyContext(browser, server.url);
      const b = await relayOnlyContext(browser, server.url);
      try {
        const alice = await a.newPage();
        const bob = await b.newPage();
        const link = await startCall(alice);
        await joinCall(bob, link);
        await expectState(bob, 'error', 40_000);
        await expect(bob.getByRole('alert')).toContainText('Couldn’t connect to the other person');
        await expect(bob.getByRole('button', { name: 'Try again' })).toBeVisible();
        await turn.waitForLog(/401/);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
});
