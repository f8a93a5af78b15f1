/**
 * Floods of cheap packets from one connection with a made-up identity (any
 * room, any token: no call link needed), against the real server process
 * with its production limits (issue 11):
 *
 *  - ack flood: WebSocket messages packed with 16,384 PUBRELs each. Before,
 *    the flooder was never cut off and another client's PINGREQ→PINGRESP went
 *    from 1 ms to p99 738 ms;
 *  - filter flood: SUBSCRIBEs of 5,000 foreign filters each. Before, the
 *    connection stayed open and the log grew by 16 MB for 20 of them.
 */
import { request } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { clientIdFor } from '../../protocol/index';
import { cleanup, makeDist } from '../helpers/broker';
import { metric, mqttUrlOf, newPeerId, newRoom } from '../helpers/hostile';
import { subscribe } from '../helpers/mqtt-bytes';
import { PUBCOMP, RawMqtt, SUBACK, percentile } from '../helpers/raw-mqtt';
import { startServer, type ServerProcess } from '../helpers/server';

const CONTROL = '127.0.0.2';
const FLOODER = '127.0.0.3';

let server: ServerProcess | null = null;
const clients: RawMqtt[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await server?.stop();
  server = null;
  await cleanup();
});

/** Production settings: LOG_LEVEL info as deployed, and the real per-address limits (the helper relaxes them by default). */
async function serve(): Promise<ServerProcess> {
  server = await startServer({
    DIST_DIR: await makeDist(),
    LOG_LEVEL: 'info',
    MAX_CONNECTIONS_PER_IP: '',
    CONNECT_RATE_PER_IP: '',
    CONNECT_BURST_PER_IP: '',
    FLAP_MAX: '',
  });
  return server;
}

async function rawClient(url: string, localAddress: string): Promise<RawMqtt> {
  const client = await RawMqtt.connected(mqttUrlOf(url), clientIdFor(newRoom(), newPeerId()), { localAddress });
  clients.push(client);
  return client;
}

/**
 * Pings on `client` every `PING_EVERY_MS` until `until` settles (and at
 * least `min` times); resolves with the round trips. The pacing keeps the
 * control client inside its own packet budget (MSG_RATE 20/s).
 */
const PING_EVERY_MS = 100;
async function pingWhile(client: RawMqtt, until: Promise<unknown>, min: number): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const rtts: number[] = [];
  while (!done || rtts.length < min) {
    const started = performance.now();
    const rtt = await client.ping();
    if (rtt === null) throw new Error('the control client was disconnected');
    rtts.push(rtt);
    await new Promise((r) => setTimeout(r, Math.max(0, PING_EVERY_MS - (performance.now() - started))));
  }
  return rtts;
}

it('ack flood: 50 messages of 16,384 PUBRELs close the flooder at the first, while a control client pings at p99 < 200 ms', async () => {
  const s = await serve();
  const control = await rawClient(s.url, CONTROL);
  const flooder = await rawClient(s.url, FLOODER);
  // 16,384 × 4 bytes = 64 KiB: one message at the WebSocket size cap.
  const pubrels = Buffer.alloc(16_384 * 4);
  for (let i = 0; i < 16_384; i += 1) pubrels.writeUInt32BE(0x6202_0000 | (1 + (i % 65_535)), i * 4);

  // Each message is followed by a PINGREQ and paced by its answer, so "closed
  // after message k" is exact: the server answers the ping only after the PUBRELs before it.
  let sent = 0;
  const flood = (async () => {
    for (let i = 0; i < 50 && !flooder.closed; i += 1) {
      flooder.send(pubrels);
      sent += 1;
      if ((await flooder.ping()) === null) break;
    }
    await flooder.whenClosed();
  })();
  const rtts = await pingWhile(control, flood, 50);
  const answered = flooder.counts.get(PUBCOMP) ?? 0;
  console.log(
    `[ack flood] flooder closed after ${sent} of 50 messages (${answered} of ${sent * 16_384} PUBRELs answered); ` +
      `control PINGREQ→PINGRESP over ${rtts.length} pings: p50 ${percentile(rtts, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(rtts, 99).toFixed(1)} ms, max ${Math.max(...rtts).toFixed(1)} ms`,
  );
  expect(sent).toBeLessThanOrEqual(3);
  expect(percentile(rtts, 99)).toBeLessThan(200);
  expect(await metric(s.url, 'tandem_connections_closed_total', { reason: 'rate-limit' })).toBe(1);
  expect(s.output()).not.toMatch(/uncaught|unhandled/i);
});

/** Lines containing `text` in the server's output so far. */
const count = (output: string, text: string): number => output.split(text).length - 1;

/**
 * Waits until everything the server logged before now is in `output`: asks
 * for a line (a refused /api/ice request) and waits for it to appear. Stdout
 * keeps order, so the lines before it have arrived too.
 */
async function logFlushed(s: ServerProcess): Promise<void> {
  const marker = 'ice request refused';
  const before = count(s.output(), marker);
  await new Promise<void>((resolve, reject) => {
    const req = request(`${s.url}/api/ice`, { localAddress: '127.0.0.9' }, (res) => res.resume().on('end', resolve));
    req.on('error', reject).end();
  });
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (count(s.output(), marker) > before) {
        s.proc.stdout?.off('data', check);
        resolve();
      }
    };
    s.proc.stdout?.on('data', check);
    check();
  });
}

it('filter flood: 20 SUBSCRIBEs of 5,000 foreign filters: closed at the first, and the log grows by < 1 MB', async () => {
  const s = await serve();
  const control = await rawClient(s.url, CONTROL);
  await logFlushed(s);
  const logBefore = s.output().length;
  const flooder = await rawClient(s.url, FLOODER);
  // Short filters, so 5,000 fit under the 64 KiB packet cap (~45 KB).
  const packets = Array.from({ length: 20 }, (_, n) =>
    subscribe(n + 1, Array.from({ length: 5000 }, (_, i) => `x/${n}/${i}`)),
  );
  let sent = 0;
  let subacks = 0;
  for (const p of packets) {
    if (flooder.closed) break;
    const answer = flooder.next(SUBACK);
    flooder.send(p);
    sent += 1;
    if (await answer) subacks += 1;
  }
  await flooder.whenClosed();
  const rtt = await control.ping();
  await logFlushed(s);
  const grown = s.output().length - logBefore;
  console.log(`[filter flood] flooder closed after ${sent} of 20 SUBSCRIBEs (${subacks} SUBACKs); log grew by ${(grown / 1024).toFixed(1)} KiB; control ping ${rtt?.toFixed(1)} ms`);
  expect(sent).toBe(1);
  expect(subacks).toBe(0);
  expect(grown).toBeLessThan(1024 * 1024);
  expect(rtt).not.toBeNull();
  expect(await metric(s.url, 'tandem_connections_closed_total', { reason: 'subscribe-size' })).toBe(1);
});

it('filter flood within the size cap: a SUBSCRIBE with one foreign filter among its own closes the connection at once', async () => {
  const s = await serve();
  const room = newRoom();
  const peer = newPeerId();
  const flooder = await RawMqtt.connected(mqttUrlOf(s.url), clientIdFor(room, peer), { localAddress: FLOODER });
  clients.push(flooder);
  const answer = flooder.next(SUBACK);
  flooder.send(subscribe(1, ['a', 'b']));
  expect(await answer).toBeNull();
  await flooder.whenClosed();
  expect(await metric(s.url, 'tandem_refused_total', { reason: 'subscribe-filter' })).toBeGreaterThanOrEqual(1);
});
