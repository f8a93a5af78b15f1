/**
 * Fuzzing the real server process: FUZZ_FRAMES (default 100,000, ~40 s on 2
 * busy cores; `npm run fuzz` runs this file alone) random and mutated MQTT frames over many WebSocket
 * connections, some after a valid CONNECT (and SUBSCRIBE), so the parser and
 * every handler behind it see garbage. Throughout, two peers keep doing the
 * app's join sequence in rooms of their own. Afterwards the process is up,
 * logged no uncaught exception, and its memory is back within 50 MB of where
 * it started.
 *
 * FUZZ_SEED replays a run: each run prints its seed.
 */
import WebSocket from 'ws';
import { afterAll, expect, it } from 'vitest';
import { clientIdFor, peerTopic, roomFilters } from '../../protocol/index';
import { cleanup, makeDist } from '../helpers/broker';
import { controlCall, mqttUrlOf, newPeerId, newRoom } from '../helpers/hostile';
import { connect, hostilePacket, prng, splitRandomly, subscribe, type FuzzContext } from '../helpers/mqtt-bytes';
import { GC_ON_SIGNAL_ENV, collectGarbage, rssBytes, startServer, type ServerProcess } from '../helpers/server';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Sessions whose close took over a second (the server had stopped reading them: see the log line). */
let slowCloses = 0;
const WARM_UP_FRAMES = 2000;
/** Sockets fuzzed at the same time. */
const CONCURRENCY = 48;
const MB = 1024 * 1024;

let server: ServerProcess | null = null;
afterAll(async () => {
  await server?.stop();
  await cleanup();
});

/**
 * A WebSocket ping answered: the server has read everything sent before it.
 * Only frames sent while this holds are counted, so every counted frame was
 * one the server actually judged (most hostile frames end their connection,
 * and anything sent after that would be discarded unread).
 */
function roundTrip(ws: WebSocket): Promise<boolean> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (answered: boolean): void => {
      ws.off('pong', onPong);
      ws.off('close', onClose);
      resolve(answered);
    };
    const onPong = (): void => done(true);
    const onClose = (): void => done(false);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.ping();
  });
}

/** One hostile connection: maybe a valid CONNECT/SUBSCRIBE first, then `count` hostile packets, cut into frames at random. */
async function session(url: string, rand: () => number, count: number): Promise<number> {
  const room = newRoom();
  const peer = newPeerId();
  const ctx: FuzzContext = {
    clientId: clientIdFor(room, peer),
    filters: roomFilters(room),
    ownTopic: peerTopic(room, peer, 'signal'),
    otherRoomTopic: peerTopic(newRoom(), newPeerId(), 'signal'),
  };
  const ws = new WebSocket(url, 'mqtt', { perMessageDeflate: false });
  ws.on('error', () => {});
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  let frames = 0;
  if (opened) {
    if (rand() < 0.7) {
      ws.send(connect(ctx.clientId), { binary: true });
      if (rand() < 0.6) ws.send(subscribe(1, ctx.filters), { binary: true });
    }
    for (let i = 0; i < count && ws.readyState === WebSocket.OPEN; i += 1) {
      // Now and then several packets in one message, as a real client may send them.
      const data = rand() < 0.15 ? Buffer.concat([hostilePacket(rand, ctx), hostilePacket(rand, ctx)]) : hostilePacket(rand, ctx);
      for (const part of splitRandomly(rand, data)) {
        if (!(await roundTrip(ws))) break;
        ws.send(part, { binary: true });
        frames += 1;
      }
    }
    // A close frame comes after everything sent, so the server has judged every frame by the time it answers.
    if (ws.readyState === WebSocket.OPEN) ws.close();
  }
  const closing = performance.now();
  const fallback = setTimeout(() => ws.terminate(), 15_000); // a fail-safe, in case the close handshake never completes
  await closed;
  clearTimeout(fallback);
  if (performance.now() - closing > 1000) slowCloses += 1;
  return frames;
}

/** CONCURRENCY connections at a time, each followed by a fresh one, until `budget` frames are spent; resolves with the count. */
async function fuzz(url: string, rand: () => number, budget: number): Promise<number> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < budget) {
        const frames = await session(url, rand, 5 + Math.floor(rand() * 20));
        sent += frames; // not `sent += await …`: that reads `sent` before the await and loses the other workers' counts
      }
    }),
  );
  return sent;
}

it(`survives ${FRAMES} hostile frames, with a control call succeeding during and after`, { timeout: 300_000 }, async () => {
  server = await startServer({ DIST_DIR: await makeDist(), LOG_LEVEL: 'warn', ...GC_ON_SIGNAL_ENV });
  const s = server;
  const url = mqttUrlOf(s.url);
  const rand = prng(SEED);
  console.log(`[fuzz] seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${FRAMES} frames`);
  // Warm-up: a call and a short burst, so the baseline already holds what any
  // traffic brings once (JIT code, mqtt-packet's number cache, malloc arenas).
  await controlCall(url);
  await fuzz(url, rand, WARM_UP_FRAMES);
  // Memory is compared after a full GC each time: an idle V8 never collects,
  // so without it the check would weigh garbage, not what the server holds.
  await collectGarbage(s);
  const rssStart = await rssBytes(s.proc);

  let fuzzing = true;
  const calls: number[] = [];
  const control = (async () => {
    while (fuzzing) calls.push(await controlCall(url, { timeoutMs: 10_000 }));
  })();

  const t0 = performance.now();
  let rssPeak = rssStart;
  const sampler = setInterval(() => {
    void rssBytes(s.proc).then((r) => (rssPeak = Math.max(rssPeak, r)), () => undefined);
  }, 250); // a sampling period for the peak, not a wait
  const sent = await fuzz(url, rand, FRAMES);
  clearInterval(sampler);
  const elapsed = (performance.now() - t0) / 1000;
  fuzzing = false;
  await control;
  const after = await controlCall(url);

  const rssIdle = await rssBytes(s.proc);
  await collectGarbage(s);
  let rssEnd = await rssBytes(s.proc);
  // On a loaded machine the last hostile sockets are still closing when the
  // fuzzer returns; memory "returns" once they are gone. Re-measure (after a
  // GC each time) until it has, for at most 20 s.
  const settleBy = Date.now() + 20_000;
  while (rssEnd - rssStart >= 50 * MB && Date.now() < settleBy) {
    await new Promise((r) => setTimeout(r, 1000)); // re-measure interval while waiting for the closes
    await collectGarbage(s);
    rssEnd = await rssBytes(s.proc);
  }
  console.log(
    `[fuzz] ${sent} frames in ${elapsed.toFixed(1)} s (${(sent / elapsed).toFixed(0)} frames/s); ` +
      `${calls.length} control calls during (max ${Math.max(...calls).toFixed(0)} ms), after ${after.toFixed(0)} ms; ` +
      `${slowCloses} sessions took >1 s to close; ` +
      `RSS ${(rssStart / MB).toFixed(0)} → peak ${(rssPeak / MB).toFixed(0)} → ${(rssIdle / MB).toFixed(0)} before GC, ` +
      `${(rssEnd / MB).toFixed(0)} MB after`,
  );
  expect(rssEnd - rssStart).toBeLessThan(50 * MB);

  expect(sent).toBeGreaterThanOrEqual(FRAMES);
  expect(calls.length).toBeGreaterThan(0);
  expect(s.proc.exitCode).toBeNull();
  expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  expect(s.output()).not.toMatch(/uncaught|unhandled|"level":60/i);
});
