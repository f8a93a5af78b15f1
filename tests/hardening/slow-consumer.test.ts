/**
 * A subscriber that stops reading its socket must not stall delivery to
 * anyone else. Aedes waits for a full socket to drain while holding a slot of
 * its publish pipeline (mqemitter, 100 slots); enough frozen rooms and every
 * room stops. The server drops a client as soon as OUTBOUND_BUFFER_BYTES are
 * waiting for it (with Aedes's drainTimeout as a backstop), so its slot is
 * released at once. One frozen room can't exhaust the slots by itself (Aedes
 * handles one packet per publisher at a time), so this test shows the
 * detection and that others are unaffected, not a reproduced global stall:
 * that would take ~100 frozen rooms, each with MBs of kernel buffers filled.
 */
import type WebSocket from 'ws';
import { afterEach, expect, it } from 'vitest';
import { clientIdFor, peerTopic, roomFilters } from '../../protocol/index';
import { cleanup, makeDist } from '../helpers/broker';
import { connectMqtt, metric, mqttUrlOf, newPeerId, newRoom, openSocket, pollUntil } from '../helpers/hostile';
import { connect, subscribe } from '../helpers/mqtt-bytes';
import { startServer, type ServerProcess } from '../helpers/server';
import { waitFor } from '../helpers/wait';

let server: ServerProcess | null = null;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await server?.stop();
  server = null;
  await cleanup();
});

it('drops a frozen subscriber while another room keeps getting every message promptly', async () => {
  // The attacker's publisher may send fast: the defence under test must not rely on the message rate limit.
  server = await startServer({ DIST_DIR: await makeDist(), LOG_LEVEL: 'warn', MSG_RATE: '10000', MSG_BURST: '10000' });
  const url = mqttUrlOf(server.url);

  // The frozen subscriber: joins room A, then stops reading its TCP socket.
  const roomA = newRoom();
  const frozenPeer = newPeerId();
  const { ws: frozen } = await openSocket(url);
  if (!frozen) throw new Error('upgrade refused');
  sockets.push(frozen);
  const suback = waitFor(frozen, 'message', { filter: (data: Buffer) => data[0] === 0x90 }); // SUBACK's first byte
  frozen.send(connect(clientIdFor(roomA, frozenPeer)), { binary: true });
  frozen.send(subscribe(1, roomFilters(roomA), 0), { binary: true });
  await suback;
  frozen.pause(); // ws: stops reading the socket, so the kernel buffers fill, then the server's

  // The attacker's publisher in room A, and a bystander call in room B.
  const attackerPeer = newPeerId();
  const attacker = await connectMqtt(url, roomA, attackerPeer);
  // Presence only (enough to be admitted): it must not receive its own flood back and become slow itself.
  await attacker.subscribeAsync(roomFilters(roomA)[0]!, { qos: 0 });
  const roomB = newRoom();
  const [b1, b2] = [newPeerId(), newPeerId()];
  const alice = await connectMqtt(url, roomB, b1);
  const bob = await connectMqtt(url, roomB, b2);
  await Promise.all([alice.subscribeAsync(roomFilters(roomB), { qos: 1 }), bob.subscribeAsync(roomFilters(roomB), { qos: 1 })]);

  let attacking = true;
  // A paused socket can't see its own close, so the server's counter is what tells.
  const frozenDropped = pollUntil(async () => (await metric(server!.url, 'tandem_connections_closed_total', { reason: 'slow-consumer' })) >= 1, {
    timeoutMs: 60_000,
    what: 'the frozen subscriber to be dropped',
  }).finally(() => (attacking = false));

  // Flood room A with 30 KB messages until the server drops the frozen subscriber.
  const payload = Buffer.alloc(30_000, 0x46);
  let floodBytes = 0;
  const flood = (async () => {
    while (attacking) {
      await attacker.publishAsync(peerTopic(roomA, attackerPeer, 'signal'), payload, { qos: 0 });
      floodBytes += payload.length;
    }
  })();

  // Meanwhile, room B's call: one message at a time, each timed from publish to delivery.
  const latencies: number[] = [];
  let n = 0;
  while (attacking || latencies.length < 20) {
    const body = `ping ${++n}`;
    const got = waitFor<[string, Buffer]>(bob, 'message', { timeoutMs: 5000, filter: (_t, p) => p.toString() === body });
    const t0 = performance.now();
    await alice.publishAsync(peerTopic(roomB, b1, 'signal'), body, { qos: 1 });
    await got;
    latencies.push(performance.now() - t0);
  }
  await Promise.all([frozenDropped, flood]);

  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `[slow consumer] dropped after ${(floodBytes / 1024 / 1024).toFixed(1)} MB flooded; room B: ${latencies.length} messages, ` +
      `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms`,
  );
  expect(await metric(server.url, 'tandem_connections_closed_total', { reason: 'slow-consumer' })).toBe(1);
  // Nobody else was dropped, and room B never waited on room A's frozen member.
  expect(attacker.connected && alice.connected && bob.connected).toBe(true);
  // A stalled pipeline would hold room B until DRAIN_TIMEOUT_MS (10 s); the
  // bound leaves room for a busy CI machine pushing the flood through loopback.
  expect(Math.max(...latencies)).toBeLessThan(2000);
});
