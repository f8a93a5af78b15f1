import mqtt from 'mqtt';
import { clientIdFor, deriveRoomId, newSecret, roomFilters, type RoomId } from '../../protocol/index';
import { credentials, newPeerId } from '../helpers/peers';
import { expect, startCall, test } from './fixtures';

/**
 * A hostile mqtt.js client against the real server process while a real call
 * waits with its retained offer: every wildcard or cross-room subscription is
 * refused and nothing of the call reaches it.
 */
test('a raw MQTT client cannot read a waiting call', async ({ peer, server }) => {
  const alice = await peer();
  const link = await startCall(alice);
  const room = await deriveRoomId(link.split('#')[1] as never);

  const otherRoom: RoomId = await deriveRoomId(newSecret());
  const me = newPeerId();
  // A legitimate client of its own room (valid credentials), hostile beyond it.
  const connect = () =>
    mqtt.connectAsync(`${server.url.replace('http', 'ws')}/mqtt`, {
      clientId: clientIdFor(otherRoom, me),
      ...credentials(otherRoom, me),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
  const received: string[] = [];
  // Each foreign filter is refused by closing the connection (no SUBACK, nothing delivered), so each gets a fresh client.
  for (const filter of ['#', '+/#', '$SYS/#', 'tandem/#', `tandem/v1/${room}/#`, ...roomFilters(room)]) {
    const hostile = await connect();
    hostile.on('message', (topic) => received.push(topic));
    const closed = new Promise<void>((resolve) => hostile.once('close', () => resolve()));
    hostile.subscribe(filter, { qos: 1 }, (err, granted) => {
      if (!err) received.push(`SUBACK ${filter} ${JSON.stringify(granted)}`);
    });
    await closed;
    hostile.end(true);
  }
  expect(received, 'nothing delivered and no SUBACK granted to a foreign filter').toEqual([]);
  const client = await connect();
  client.on('message', (topic) => received.push(topic));
  try {
    // Its own room is allowed, and holds nothing of Alice's call.
    await client.subscribeAsync(roomFilters(otherRoom), { qos: 1 });
    // A round trip through the broker: anything retained would have arrived before our own echo.
    await client.publishAsync(`tandem/v1/${otherRoom}/${client.options.clientId!.split('.')[1]}/presence`, Buffer.from('x'), { qos: 1, retain: true });
    await expect.poll(() => received.length).toBe(1);
    expect(received.every((t) => !t.includes(room))).toBe(true);
  } finally {
    await client.endAsync(true);
  }
});
