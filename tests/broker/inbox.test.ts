/**
 * Inbox connections (protocol/ring.ts, broker/inbox.ts), seen from real
 * mqtt.js clients against the real server: who may listen, who may ring, and
 * how often.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  INBOX_FILTERS_PER_SUBSCRIBE,
  INBOX_USERNAME,
  inboxClientId,
  inboxTopic,
  MAX_INBOX_PAYLOAD_BYTES,
  newInboxId,
  newPeerToken,
  peerIdOf,
  roomFilters,
  type InboxId,
} from '../../protocol/index';
import { cleanup, connectPeer, connectRaw, metricValue, newPeerId, newRoomId, recordMessages, startTestServer, subscribeGranted, subscribeRefused, type TestServer } from '../helpers/broker';
import { waitFor } from '../helpers/wait';

afterEach(cleanup);

async function inboxOptions(): Promise<IClientOptions> {
  const token = newPeerToken();
  return { clientId: inboxClientId(await peerIdOf(token)), username: INBOX_USERNAME, password: token };
}

async function connectInbox(server: TestServer, extra: IClientOptions = {}): Promise<MqttClient> {
  return connectRaw(server, { ...(await inboxOptions()), ...extra });
}

/** Publishes and resolves once the sender's connection closed (a refusal), or with 'sent' after the PUBACK. */
async function publishOutcome(client: MqttClient, topic: string, payload: Buffer, opts: { retain?: boolean } = {}): Promise<'sent' | 'closed'> {
  const closed = waitFor(client, 'close').then(() => 'closed' as const);
  const sent = client.publishAsync(topic, payload, { qos: 1, retain: opts.retain ?? false }).then(() => 'sent' as const, () => closed);
  return Promise.race([closed, sent]);
}

describe('inbox connections', () => {
  it('relays a sealed message from one phone to the inbox another listens on, unretained', async () => {
    const server = await startTestServer();
    const callee = await connectInbox(server);
    const inbox = newInboxId();
    expect(await subscribeGranted(callee, inboxTopic(inbox))).toEqual([1]);
    const got = recordMessages(callee);
    const caller = await connectInbox(server);
    expect(await publishOutcome(caller, inboxTopic(inbox), Buffer.from('ciphertext'))).toBe('sent');
    await waitFor(callee, 'message');
    expect(got).toEqual([{ topic: inboxTopic(inbox), payload: 'ciphertext', retain: false, qos: 1 }]);
  });

  it('grants several inboxes in one SUBSCRIBE, up to the packet the protocol allows', async () => {
    const server = await startTestServer();
    const callee = await connectInbox(server);
    const inboxes = Array.from({ length: INBOX_FILTERS_PER_SUBSCRIBE }, () => inboxTopic(newInboxId()));
    expect(await subscribeGranted(callee, inboxes)).toEqual(inboxes.map(() => 1));
  });

  const refusedFilters: Array<[string, (i: InboxId) => string]> = [
    ['every inbox (+)', () => 'tandem/v1/ring/+'],
    ['every inbox (#)', () => 'tandem/v1/ring/#'],
    ['an inbox id that is not 16 bytes', () => 'tandem/v1/ring/abc'],
    ["a room's filters", () => roomFilters(newRoomId())[0]!],
  ];
  it.each(refusedFilters)('refuses to subscribe to %s by closing the connection', async (_what, filter) => {
    const server = await startTestServer();
    const client = await connectInbox(server);
    expect(await subscribeRefused(client, filter(newInboxId()))).toBeNull();
  });

  it('refuses a retained ring, an oversize one, and a ring from a room connection', async () => {
    const server = await startTestServer();
    const topic = inboxTopic(newInboxId());
    expect(await publishOutcome(await connectInbox(server), topic, Buffer.from('x'), { retain: true })).toBe('closed');
    expect(await publishOutcome(await connectInbox(server), topic, Buffer.alloc(MAX_INBOX_PAYLOAD_BYTES + 1))).toBe('closed');
    const member = await connectPeer(server, newRoomId(), newPeerId());
    expect(await publishOutcome(member, topic, Buffer.from('x'))).toBe('closed');
    expect(await metricValue(server, 'tandem_refused_total', { reason: 'retain' })).toBeGreaterThan(0);
  });

  it('refuses CONNECT with a Will, a wrong username, or a token that is not the peer id', async () => {
    const server = await startTestServer();
    const will = { topic: inboxTopic(newInboxId()), payload: Buffer.from('x'), qos: 0 as const, retain: false };
    await expect(connectInbox(server, { will })).rejects.toThrow();
    await expect(connectInbox(server, { username: 'someone' })).rejects.toThrow();
    await expect(connectInbox(server, { password: newPeerToken() })).rejects.toThrow();
  });

  it('limits how often one inbox can be rung: the eleventh message in a burst closes the sender', async () => {
    const server = await startTestServer();
    const callee = await connectInbox(server);
    const inbox = newInboxId();
    await subscribeGranted(callee, inboxTopic(inbox));
    const got = recordMessages(callee);
    // Ten senders, one message each: the recipient's budget, not a sender's.
    for (let i = 0; i < 10; i++) expect(await publishOutcome(await connectInbox(server), inboxTopic(inbox), Buffer.from(`ring ${i}`))).toBe('sent');
    expect(await publishOutcome(await connectInbox(server), inboxTopic(inbox), Buffer.from('one too many'))).toBe('closed');
    // Another inbox is not affected.
    const other = newInboxId();
    await subscribeGranted(callee, inboxTopic(other));
    expect(await publishOutcome(await connectInbox(server), inboxTopic(other), Buffer.from('fine'))).toBe('sent');
    await waitFor(callee, 'message', { filter: (t: string) => t === inboxTopic(other) });
    expect(got.filter((m) => m.topic === inboxTopic(inbox)).map((m) => m.payload)).toHaveLength(10);
    expect(await metricValue(server, 'tandem_refused_total', { reason: 'ring-rate' })).toBe(1);
  });

  it('limits one sender across inboxes', async () => {
    const server = await startTestServer();
    const sender = await connectInbox(server);
    sender.setMaxListeners(64); // one 'close' waiter per publish below
    const outcomes: string[] = [];
    // 30 is the sender's burst; each to a fresh inbox so no recipient limit applies.
    for (let i = 0; i < 31; i++) {
      const outcome = await publishOutcome(sender, inboxTopic(newInboxId()), Buffer.from('x'));
      outcomes.push(outcome);
      if (outcome === 'closed') break;
    }
    expect(outcomes.indexOf('closed')).toBe(30);
  });
});

describe('POST /api/inbox (a Decline from a notification, with no page open)', () => {
  const post = (server: TestServer, body: unknown, type = 'application/json') =>
    fetch(`${server.url}/api/inbox`, { method: 'POST', headers: { 'Content-Type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('publishes the sealed payload to the inbox, unretained', async () => {
    const server = await startTestServer();
    const callee = await connectInbox(server);
    const inbox = newInboxId();
    await subscribeGranted(callee, inboxTopic(inbox));
    const got = waitFor<[string, Buffer]>(callee, 'message');
    const res = await post(server, { inbox, payload: 'c2VhbGVk' });
    expect(res.status).toBe(202);
    const [topic, payload] = await got;
    expect([topic, payload.toString()]).toEqual([inboxTopic(inbox), 'sealed']);
  });

  it('refuses garbage with a clear error, and rings one inbox no more than its budget', async () => {
    const server = await startTestServer();
    expect((await fetch(`${server.url}/api/inbox`)).status).toBe(405);
    expect((await post(server, 'x', 'text/plain')).status).toBe(415);
    const bad = await post(server, '{not json');
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'not JSON' }]);
    expect((await post(server, { inbox: 'tandem/v1/ring/#', payload: 'eA' })).status).toBe(400);
    expect((await post(server, { inbox: newInboxId(), payload: 'A'.repeat(4000) })).status).toBe(400);
    const inbox = newInboxId();
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await post(server, { inbox, payload: 'eA' })).status);
    expect(codes).toEqual([...Array(10).fill(202), 429]);
  });
});
