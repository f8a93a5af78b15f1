/**
 * The phone's inbox connection (protocol/ring.ts): one mqtt.js client per
 * tab that listens on our inbox for each contact and publishes to theirs.
 * Payloads arrive and leave sealed; this layer only moves bytes.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  INBOX_FILTERS_PER_SUBSCRIBE,
  INBOX_USERNAME,
  inboxClientId,
  inboxTopic,
  KEEPALIVE_SECONDS,
  parseInboxTopic,
  peerIdOf,
  type InboxId,
  type PeerToken,
} from '../../protocol/index';

export interface InboxTransport {
  /** Subscribes; resolves once the broker has granted it (SUBACK), or failed. */
  listen(inboxes: InboxId[]): Promise<void>;
  forget(inboxes: InboxId[]): void;
  publish(inbox: InboxId, payload: Uint8Array): Promise<void>;
  close(): void;
}

export type InboxHandler = (inbox: InboxId, payload: Uint8Array) => void;

type MqttModule = { connect(url: string, opts: IClientOptions): MqttClient };

export interface MqttInboxOptions {
  brokerUrl: string;
  token: PeerToken;
  onMessage: InboxHandler;
  mqtt: MqttModule;
  /** Told when the connection comes and goes (for tests and the log). */
  onStatus?: (connected: boolean) => void;
}

/**
 * mqtt.js reconnects on its own and re-subscribes what was subscribed (its
 * `resubscribe` default), so a ring reaches us again after a network blip.
 */
export async function connectInbox(opts: MqttInboxOptions): Promise<InboxTransport> {
  const client = opts.mqtt.connect(opts.brokerUrl, {
    clientId: inboxClientId(await peerIdOf(opts.token)),
    username: INBOX_USERNAME,
    password: opts.token,
    protocolVersion: 4,
    clean: true,
    keepalive: KEEPALIVE_SECONDS,
    reconnectPeriod: 2_000,
    connectTimeout: 10_000,
    resubscribe: true,
  });
  client.on('message', (topic, payload) => {
    const inbox = parseInboxTopic(topic);
    if (inbox) opts.onMessage(inbox, new Uint8Array(payload));
  });
  client.on('connect', () => opts.onStatus?.(true));
  client.on('close', () => opts.onStatus?.(false));
  // An 'error' without a listener would throw; the reconnect loop handles it.
  client.on('error', () => undefined);
  const chunks = (ids: InboxId[]): string[][] => {
    const topics = ids.map(inboxTopic);
    const out: string[][] = [];
    for (let i = 0; i < topics.length; i += INBOX_FILTERS_PER_SUBSCRIBE) out.push(topics.slice(i, i + INBOX_FILTERS_PER_SUBSCRIBE));
    return out;
  };
  return {
    listen: async (inboxes) => {
      await Promise.all(chunks(inboxes).map((topics) => client.subscribeAsync(topics, { qos: 1 }).catch(() => undefined)));
    },
    forget: (inboxes) => {
      for (const topics of chunks(inboxes)) client.unsubscribe(topics);
    },
    publish: async (inbox, payload) => {
      await client.publishAsync(inboxTopic(inbox), payload as Buffer, { qos: 1 });
    },
    close: () => void client.endAsync(true).catch(() => undefined),
  };
}
