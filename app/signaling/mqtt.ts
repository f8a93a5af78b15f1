/**
 * The MQTT side of signaling: one mqtt.js client per call, bound to one room
 * and one peer id. Seals what it sends and opens what it receives; anything
 * that fails to open or validate is dropped and counted, never acted on.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  clientIdFor,
  KEEPALIVE_SECONDS,
  openMessage,
  parseTopic,
  peerTopic,
  roomFilters,
  sealMessage,
  topicKindOf,
  type PeerId,
  type PeerToken,
  type RoomId,
  type SignalMessage,
} from '../../protocol/index';
import type { Logger } from '../call/negotiator';
import type { SignalingEvents, SignalingPort, SignalingStatus } from '../call/ports';
import { Emitter } from '../lib/emitter';
import { defaultReconnectPolicy, type ReconnectPolicy } from './reconnect';

export interface SignalingOptions {
  brokerUrl: string;
  room: RoomId;
  peerId: PeerId;
  /** Proves peerId to our broker (peerId = hash of it); any other broker ignores it. */
  token: PeerToken;
  key: CryptoKey;
  log: Logger;
  reconnectPolicy?: ReconnectPolicy;
}

/** Loaded on demand: mqtt.js is ~100 KB gzipped and Home must not wait for it. */
export const loadMqtt = () => import('mqtt').then((m) => m.default ?? m);

export class MqttSignaling extends Emitter<SignalingEvents> implements SignalingPort {
  readonly peerId: PeerId;
  status: SignalingStatus = 'connecting';
  /** Messages dropped because they failed to open or validate, by reason. */
  readonly dropped = new Map<string, number>();
  private client: MqttClient | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(private readonly opts: SignalingOptions) {
    super();
    this.peerId = opts.peerId;
  }

  async connect(): Promise<void> {
    const mqtt = await loadMqtt();
    if (this.closed) return;
    const { room, peerId } = this.opts;
    const policy = this.opts.reconnectPolicy ?? defaultReconnectPolicy;
    const options: IClientOptions = {
      clientId: clientIdFor(room, peerId),
      // The room id as username lets a generic broker's ACL confine us to our
      // room (Mosquitto: `pattern ... tandem/v1/%u/...`, deploy/mosquitto/).
      username: room,
      password: this.opts.token,
      protocolVersion: 4, // Aedes and the broker contract are MQTT 3.1.1
      clean: true,
      keepalive: KEEPALIVE_SECONDS,
      connectTimeout: 8_000,
      resubscribe: false, // we subscribe on every connect ourselves, to read the SUBACK (room full?)
      reconnectPeriod: 0, // we reconnect ourselves, timed by the injected policy
      will: { topic: peerTopic(room, peerId, 'presence'), payload: new Uint8Array(0) as Buffer, qos: 1, retain: true },
    };
    const client = mqtt.connect(this.opts.brokerUrl, options);
    this.client = client;
    client.on('connect', () => {
      this.attempt = 0;
      void this.subscribe(client);
    });
    client.on('close', () => {
      if (this.closed || this.status === 'full') return;
      this.setStatus('reconnecting');
      if (this.retryTimer !== null) return;
      const delay = policy.nextDelay({ attempt: this.attempt++ });
      if (delay === null) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.closed) client.reconnect();
      }, delay);
    });
    client.on('error', (e) => this.opts.log.debug('mqtt error', { error: e.message }));
    client.on('message', (topic, payload) => void this.onMessage(topic, payload));
  }

  private async subscribe(client: MqttClient): Promise<void> {
    let refused: boolean;
    try {
      const granted = await client.subscribeAsync(roomFilters(this.opts.room), { qos: 1 });
      refused = granted.some((g) => (g.qos & 0x80) !== 0);
    } catch (e) {
      // mqtt.js rejects on a SUBACK failure code (0x80) and attaches the SUBACK packet.
      const granted = (e as { packet?: { granted?: unknown } }).packet?.granted;
      refused = Array.isArray(granted) && granted.some((g) => typeof g === 'number' && (g & 0x80) !== 0);
      if (!refused) {
        this.opts.log.warn('subscribe failed', { error: String(e) });
        return;
      }
    }
    if (refused) {
      // The broker refused the room: two people are already in it.
      this.setStatus('full');
      client.end(true);
      return;
    }
    this.setStatus('connected');
  }

  private setStatus(status: SignalingStatus): void {
    if (this.status === status) return;
    this.opts.log.debug(`signaling ${this.status} -> ${status}`);
    this.status = status;
    this.emit('status', status);
  }

  private async onMessage(topic: string, payload: Uint8Array): Promise<void> {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.room !== this.opts.room) return this.drop('topic');
    // MQTT 3.1.1 has no "no local" subscription option, so the broker echoes our
    // own publishes back; the topic names the sender, so skip them before decrypting.
    if (parsed.peer === this.peerId) return;
    if (payload.length === 0) {
      if (parsed.kind === 'presence') this.emit('presence-cleared', parsed.peer);
      return;
    }
    try {
      const message = await openMessage(this.opts.key, topic, parsed.kind, payload);
      // The topic is bound to the sender by the broker and by AES-GCM's AAD; the body must agree.
      if (message.from !== parsed.peer) return this.drop('sender');
      if (!this.closed) this.emit('message', message);
    } catch (e) {
      this.drop((e as { reason?: string }).reason ?? 'error');
    }
  }

  private drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.opts.log.warn('signaling message dropped', { reason });
  }

  async send(message: SignalMessage): Promise<void> {
    const client = this.client;
    if (!client || this.closed) return;
    const kind = topicKindOf(message.type);
    const topic = peerTopic(this.opts.room, this.peerId, kind);
    const payload = await sealMessage(this.opts.key, topic, message);
    await client.publishAsync(topic, payload as Buffer, { qos: 1, retain: kind === 'presence' });
  }

  async clearPresence(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.publishAsync(peerTopic(this.opts.room, this.peerId, 'presence'), new Uint8Array(0) as Buffer, { qos: 1, retain: true });
  }

  /** Reconnects now if the socket is down (page became visible, network came back). */
  checkNow(): void {
    if (this.closed || !this.client || this.client.connected || this.status === 'full') return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.client.reconnect();
  }

  /** Ends the connection; without `force`, after in-flight messages (hang-up's bye) are acknowledged. */
  async close(force = false): Promise<void> {
    if (this.closed) {
      if (force) this.client?.end(true);
      return;
    }
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.removeAllListeners();
    await this.client?.endAsync(force).catch(() => undefined);
  }
}
