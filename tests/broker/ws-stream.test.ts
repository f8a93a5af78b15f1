/**
 * broker/ws-stream.ts: what Aedes writes while the stream is corked leaves
 * as one WebSocket frame, and a peer parsing the byte stream still reads
 * every packet.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { afterEach, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createMqttWebSocketStream } from '../../broker/ws-stream';
import { waitFor } from '../helpers/wait';

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

async function pair(): Promise<{ stream: Duplex; frames: Buffer[]; client: WebSocket }> {
  server = createServer();
  const wss = new WebSocketServer({ server });
  const accepted = waitFor<[WebSocket]>(wss, 'connection');
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const frames: Buffer[] = [];
  client.on('message', (data: Buffer) => frames.push(data));
  const [ws] = await accepted;
  await waitFor(client, 'open');
  return { stream: createMqttWebSocketStream(ws), frames, client };
}

it('sends the packets written in one tick as one frame, which parses back into each packet', async () => {
  const { stream, frames, client } = await pair();
  const publish = { cmd: 'publish', topic: 'tandem/v1/r/p/signal', payload: Buffer.from('x'.repeat(100)), qos: 1, messageId: 7, retain: false, dup: false } as const;
  // What Aedes does for each packet (lib/write.js): writeToStream corks the stream and uncorks on the next tick.
  mqttPacket.writeToStream({ cmd: 'puback', messageId: 6 }, stream);
  mqttPacket.writeToStream(publish, stream);
  await waitFor(client, 'message');
  expect(frames).toHaveLength(1);

  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Array<{ cmd: string; messageId?: number }> = [];
  parser.on('packet', (p) => packets.push(p));
  parser.parse(frames[0]!);
  expect(packets.map((p) => [p.cmd, p.messageId])).toEqual([
    ['puback', 6],
    ['publish', 7],
  ]);
  client.terminate();
});
