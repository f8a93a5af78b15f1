import { afterEach, expect, it } from 'vitest';
import { admitted, cleanup, newPeerId, newRoomId, rawSocket, startTestServer } from '../helpers/broker';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

it('close() drops every connection, stops listening, and can be called again', async () => {
  const server = await startTestServer();
  const client = await admitted(server, newRoomId(), newPeerId());
  const silent = await rawSocket(server);
  const clientClosed = waitFor(client, 'close');
  const socketClosed = waitFor(silent, 'close');

  await server.close();
  await Promise.all([clientClosed, socketClosed]);
  expect(server.connections.size).toBe(0);
  expect(server.broker.closed).toBe(true);
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  await server.close();
});

it('fails to start on a port in use, naming the cause', async () => {
  const first = await startTestServer();
  await expect(startTestServer({ port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
});
