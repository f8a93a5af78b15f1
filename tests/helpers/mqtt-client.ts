/**
 * The mqtt.js options the test helpers connect with, written once: every test
 * client's base, the app's own options for `<room>.<peer>` (as
 * app/signaling/mqtt.ts sets them), and the wait for CONNACK.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { KEEPALIVE_SECONDS, clientIdFor, peerTopic, type PeerId, type RoomId } from '../../protocol/index';
import { credentials } from './peers';

/** MQTT 3.1.1 (Aedes speaks nothing newer), never a reconnect of its own, and a CONNACK within 5 s. */
export const TEST_CLIENT: Readonly<IClientOptions> = { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 };

/** As the app connects: clientId `<room>.<peer>`, the peer's token, a clean session, and a retained empty Will on its presence topic. */
export function appClientOptions(room: RoomId, peer: PeerId): IClientOptions {
  return {
    ...TEST_CLIENT,
    clientId: clientIdFor(room, peer),
    ...credentials(room, peer),
    clean: true,
    keepalive: KEEPALIVE_SECONDS,
    will: { topic: peerTopic(room, peer, 'presence'), payload: Buffer.alloc(0), qos: 1, retain: true },
  };
}

/** Resolves on CONNACK; rejects if the broker refuses it or the socket closes first. */
export function connack(client: MqttClient, who = 'client'): Promise<void> {
  // Without a listener, mqtt.js would rethrow a refused CONNACK as an uncaught error; the promise reports it.
  client.on('error', () => {});
  return new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error(`${who}: closed before CONNACK`)));
  });
}
