/**
 * The policy hooks called directly, for the rules no real client can reach
 * through the broker: delivery across rooms (subscriptions already stop it)
 * and Wills republished without a client after another broker died.
 */
import { expect, it } from 'vitest';
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes';
import { pino } from 'pino';
import { clientIdFor, peerTopic, roomFilters, type PeerId, type RoomId } from '../../protocol/index';
import { newPeerId, tokenOf } from '../helpers/peers';
import { BrokerPolicy } from '../../broker/hooks';
import { Metrics } from '../../broker/metrics';
import { MemoryRoomRegistry } from '../../broker/rooms';
import { newRoomId } from '../helpers/broker';

function setup() {
  const metrics = new Metrics();
  const policy = new BrokerPolicy({ registry: new MemoryRoomRegistry<Client>(), metrics, logger: pino({ level: 'silent' }) });
  return { policy, metrics };
}

/** Runs CONNECT and SUBSCRIBE through the hooks for a fake client; resolves with the admitted client. */
async function admit(policy: BrokerPolicy, room: RoomId, peer: PeerId): Promise<Client> {
  const client = { id: clientIdFor(room, peer), clean: true, closed: false } as unknown as Client;
  await new Promise<void>((resolve, reject) =>
    policy.hooks.authenticate(client, room, Buffer.from(tokenOf(peer)!), (err, ok) => (ok ? resolve() : reject(err))),
  );
  const sub: Subscription = { topic: roomFilters(room)[0]!, qos: 1 };
  const granted = await new Promise<Subscription | null | undefined>((resolve, reject) =>
    policy.hooks.authorizeSubscribe(client, sub, (err, s) => (err ? reject(err) : resolve(s))),
  );
  expect(granted).toEqual(sub);
  return client;
}

const packet = (topic: string, payload = Buffer.from('x'), retain = false): PublishPacket => ({
  cmd: 'publish',
  topic,
  payload,
  qos: 1,
  retain,
  dup: false,
});

function authorizePublish(policy: BrokerPolicy, client: Client | null, p: PublishPacket): Promise<Error | null> {
  return new Promise((resolve) => policy.hooks.authorizePublish(client, p, (err) => resolve(err ?? null)));
}

it('forwards a message only to a member of the same room', async () => {
  const { policy } = setup();
  const [roomA, roomB] = [newRoomId(), newRoomId()];
  const sender = newPeerId();
  const inA = await admit(policy, roomA, newPeerId());
  const inB = await admit(policy, roomB, newPeerId());
  const message = packet(peerTopic(roomA, sender, 'signal')) as AedesPublishPacket;
  expect(policy.hooks.authorizeForward(inA, message)).toBe(message);
  expect(policy.hooks.authorizeForward(inB, message)).toBeNull();
  expect(policy.hooks.authorizeForward(inA, packet('$SYS/broker/heartbeat') as AedesPublishPacket)).toBeNull();
});

it('accepts a client-less Will only if it clears a presence', async () => {
  const { policy } = setup();
  const room = newRoomId();
  const peer = newPeerId();
  expect(await authorizePublish(policy, null, packet(peerTopic(room, peer, 'presence'), Buffer.alloc(0), true))).toBeNull();
  expect(await authorizePublish(policy, null, packet(peerTopic(room, peer, 'presence'), Buffer.from('offer'), true))).not.toBeNull();
  expect(await authorizePublish(policy, null, packet(peerTopic(room, peer, 'signal'), Buffer.from('bye')))).not.toBeNull();
});

it('accepts the app\'s own Will: an empty retained presence of an admitted client', async () => {
  const { policy } = setup();
  const room = newRoomId();
  const peer = newPeerId();
  const client = await admit(policy, room, peer);
  expect(await authorizePublish(policy, client, packet(peerTopic(room, peer, 'presence'), Buffer.alloc(0), true))).toBeNull();
});
