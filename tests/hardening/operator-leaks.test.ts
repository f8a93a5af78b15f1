/**
 * What a log reader or a stranger scraping /metrics learns (issue 11, "leaks
 * to operators"). A room id is enough to join a room and hold its places, so
 * it must not appear in the log, at any level, whatever a client does; a
 * short keyed hash stands in for it, the same on every line, so one room can
 * still be followed. Real server process, LOG_LEVEL=debug (the most it says).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientIdFor, peerTopic } from '../../protocol/index';
import { cleanup, makeDist } from '../helpers/broker';
import { joinWithPresence, mqttUrlOf, newPeerId, newRoom } from '../helpers/hostile';
import { connectWithWill, subscribe } from '../helpers/mqtt-bytes';
import { RawMqtt } from '../helpers/raw-mqtt';
import { metricsHeaders, startServer, type ServerProcess } from '../helpers/server';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({
    DIST_DIR: await makeDist(),
    LOG_LEVEL: 'debug',
    TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
    TURN_SECRET: randomBytes(24).toString('hex'),
  });
});
afterAll(async () => {
  await server?.stop();
  await cleanup();
});

it('never logs a room id: a call, refusals, a foreign Will and /api/ice?client= all show a keyed hash instead', async () => {
  const url = mqttUrlOf(server.url);
  const room = newRoom();
  const [a, b] = [newPeerId(), newPeerId()];
  const alice = await joinWithPresence(url, room, a);
  // /api/ice with the clientId in the query: issued, then refused for a clientId not in the call.
  const issued = await fetch(`${server.url}/api/ice?client=${encodeURIComponent(clientIdFor(room, a))}`);
  expect(issued.status).toBe(200);
  const refused = await fetch(`${server.url}/api/ice?client=${encodeURIComponent(clientIdFor(room, b))}`);
  expect(refused.status).toBe(403);
  // A foreign filter naming the room, and a Will on another peer's topic in it.
  const hostile = await RawMqtt.connected(url, clientIdFor(room, b));
  hostile.send(subscribe(1, [`tandem/v1/${room}/#`]));
  await hostile.whenClosed();
  const will = await RawMqtt.open(url);
  expect(await will.connect(connectWithWill(clientIdFor(room, newPeerId()), { topic: peerTopic(room, a, 'signal'), payload: '', qos: 1, retain: true }))).toBe(5);
  will.terminate();
  await alice.endAsync();
  await server.stop();

  const out = server.output();
  const lines = out.trim().split('\n');
  const withRef = lines.filter((l) => /"(clientId|topic)":"[^"]*r:[0-9a-f]{12}/.test(l));
  const refs = new Set(withRef.flatMap((l) => [...l.matchAll(/r:[0-9a-f]{12}/g)].map((m) => m[0])));
  console.log(`[leaks] ${lines.length} log lines, ${withRef.length} with a room hash (${refs.size} distinct), room id found ${out.split(room).length - 1} times`);
  expect(out).not.toContain(room);
  // Correlation still works: the room's lines share one hash.
  expect(withRef.length).toBeGreaterThanOrEqual(4);
  expect(refs.size).toBeLessThanOrEqual(2); // the room, plus the hashed foreign filter
});

it('serves /metrics only with the bearer token', async () => {
  const s = await startServer({ DIST_DIR: await makeDist() });
  try {
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/metrics`, { headers: { Authorization: 'Bearer guess' } })).status).toBe(401);
    const ok = await fetch(`${s.url}/metrics`, { headers: metricsHeaders });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('tandem_clients_connected');
  } finally {
    await s.stop();
  }
  const open = await startServer({ DIST_DIR: await makeDist(), METRICS_TOKEN: '' });
  try {
    expect((await fetch(`${open.url}/metrics`)).status).toBe(404);
  } finally {
    await open.stop();
  }
});
