import { findMosquitto, startMosquitto } from '../helpers/mosquitto';
import { findRedis, startRedis, type RedisServer } from '../helpers/redis';
import { freePort, metricsHeaders, startServer, type ServerProcess } from '../helpers/server';
import { callScreen, expect, expectFramesFlowing, expectState, newContext, stats, test } from './fixtures';

/** Real Redis- and Mosquitto-backed setups carrying a real call between two Chromium contexts. */

test.describe('two server processes on Redis act as one broker', () => {
  test.skip(findRedis() === null, 'needs redis-server (apt-get install -y redis-server)');
  let redis: RedisServer;
  const servers: ServerProcess[] = [];
  test.beforeAll(async () => {
    redis = await startRedis();
  });
  test.afterAll(async () => {
    for (const s of servers) await s.stop();
    await redis?.stop();
  });

  test('caller on A, joiner on B: video both ways; a third person is refused; A dies and the call recovers through a new process', async ({ browser }) => {
    const env = { REDIS_URL: redis.url, SERVER_TTL_MS: '3000' };
    const portA = await freePort();
    let a = await startServer(env, portA);
    const b = await startServer(env);
    servers.push(b);
    const ca = await newContext(browser, a.url);
    const cb = await newContext(browser, b.url);
    const cm = await newContext(browser, b.url);
    // A failure explains itself with both pages' debug logs and both processes' output.
    const logs: string[] = [];
    try {
      const alice = await ca.newPage();
      await alice.goto('/');
      await alice.getByRole('button', { name: 'Start a call' }).click();
      await expectState(alice, 'waiting');
      const secret = (await alice.getByTestId('call-link').textContent())!.split('#')[1]!;

      const bob = await cb.newPage();
      for (const [name, page] of [['alice', alice], ['bob', bob]] as const) page.on('console', (m) => logs.push(`[${name}] ${m.text()}`));
      await bob.goto(`/call#${secret}`); // the same call, through the other process
      await bob.getByRole('button', { name: /^Join/ }).click();
      await expectState(alice, 'connected');
      await expectState(bob, 'connected');
      await expectFramesFlowing(alice);
      await expectFramesFlowing(bob);

      const mallory = await cm.newPage();
      // Process A's registry (in Redis) already says the call is full: no pre-join screen, no camera.
      await mallory.goto(`/call#${secret}`);
      await expectState(mallory, 'full');

      // Process A dies with Alice on it; a new process takes its address (what a load balancer does).
      await a.stop('SIGKILL');
      const atKill = (await stats(bob)).framesDecoded;
      a = await startServer(env, portA);
      servers.push(a);
      await expect(callScreen(alice)).toHaveAttribute('data-signaling', 'connected', { timeout: 10_000 });
      await expect(callScreen(alice)).toHaveAttribute('data-state', 'connected');
      expect((await stats(bob)).framesDecoded).toBeGreaterThan(atKill);
      // Signaling crosses processes again: an ICE restart renegotiates through A' and B
      // (media alone would keep flowing peer to peer even with signaling dead).
      const answersBefore = Number(await callScreen(bob).getAttribute('data-negotiations'));
      await alice.evaluate(() => {
        const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
        [...pcs].reverse().find((p) => p.connectionState !== 'closed')!.restartIce();
      });
      await expect.poll(async () => Number(await callScreen(bob).getAttribute('data-negotiations'))).toBeGreaterThan(answersBefore);
      await expectState(alice, 'connected');
      await expectFramesFlowing(bob);
    } catch (e) {
      console.log([...logs, '--- process A', a.output(), '--- process B', b.output()].join('\n'));
      throw e;
    } finally {
      await ca.close();
      await cb.close();
      await cm.close();
    }
  });
});

test.describe('any MQTT 3.1.1 broker', () => {
  test.skip(findMosquitto() === null, 'needs mosquitto (apt-get install -y mosquitto)');

  test('with BROKER_URL pointing at Mosquitto, our server only serves the app and a call connects', async ({ browser }) => {
    const mosquitto = await startMosquitto();
    const server = await startServer({ BROKER_URL: mosquitto.wsUrl });
    const ca = await newContext(browser, server.url);
    const cb = await newContext(browser, server.url);
    try {
      const config = await (await fetch(`${server.url}/config.json`)).json();
      expect(config.brokerUrl).toBe(mosquitto.wsUrl);
      const alice = await ca.newPage();
      await alice.goto('/');
      await alice.getByRole('button', { name: 'Start a call' }).click();
      await expectState(alice, 'waiting');
      const link = (await alice.getByTestId('call-link').textContent())!;
      const bob = await cb.newPage();
      await bob.goto(link);
      await bob.getByRole('button', { name: /^Join/ }).click();
      await expectState(alice, 'connected');
      await expectState(bob, 'connected');
      await expectFramesFlowing(alice);
      await expectFramesFlowing(bob);
      // Signaling went through Mosquitto: our broker relayed nothing.
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: metricsHeaders })).text();
      expect(metrics).toMatch(/^tandem_messages_relayed_total 0$/m);
    } finally {
      await ca.close();
      await cb.close();
      await server.stop();
      await mosquitto.stop();
    }
  });
});
