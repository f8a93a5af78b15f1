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
  ProtocolError,
  roomFilters,
  sealMessage,
  topicKindOf,
  type PeerId,
  type SignalMessage,
} from '../../protocol/index';
import { realClock, type Clock, type SealedMessage, type SignalingEvents, type SignalingParams, type SignalingPort, type SignalingStatus } from '../call/ports';
import { Emitter } from '../lib/emitter';
import { defaultReconnectPolicy, type ReconnectPolicy } from './reconnect';

export interface SignalingOptions extends SignalingParams {
  reconnectPolicy?: ReconnectPolicy;
  clock?: Clock;
  /** mqtt.js itself; tests pass the Node build. */
  mqtt?: MqttModule;
}

type MqttModule = { connect(url: string, opts: IClientOptions): MqttClient };

/** Loaded on demand: mqtt.js is ~100 KB gzipped and Home must not wait for it. */
export const loadMqtt = (): Promise<MqttModule> => import('mqtt').then((m) => (m.default ?? m) as MqttModule);

export class MqttSignaling extends Emitter<SignalingEvents> implements SignalingPort {
  readonly peerId: PeerId;
  status: SignalingStatus = 'connecting';
  private client: MqttClient | null = null;
  private attempt = 0;
  /** When the connection was lost (clock ms), for the policy's give-up rule. */
  private lostAt: number | null = null;
  private retryTimer: unknown = null;
  private closed = false;
  private sealing: Promise<void> = Promise.resolve();
  /** Subscribe to the room (which takes a place in it) on every connect, once asked to. */
  private entered = false;
  private readonly clock: Clock;

  constructor(private readonly opts: SignalingOptions) {
    super();
    this.peerId = opts.peerId;
    this.clock = opts.clock ?? realClock;
  }

  async connect(): Promise<void> {
    const mqtt = this.opts.mqtt ?? (await loadMqtt());
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
      this.lostAt = null;
      if (this.entered) void this.subscribe(client);
      else this.setStatus('ready');
    });
    client.on('close', () => {
      if (this.closed || this.status === 'full' || this.status === 'failed') return;
      this.lostAt ??= this.clock.now();
      if (this.retryTimer !== null) return;
      const delay = policy.nextDelay({ attempt: this.attempt++, elapsedMs: this.clock.now() - this.lostAt });
      if (delay === null) {
        // The policy gave up: the person is told, and Try again starts over.
        this.setStatus('failed');
        client.end(true);
        return;
      }
      this.setStatus('reconnecting');
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = null;
        if (!this.closed) client.reconnect();
      }, delay);
    });
    client.on('error', (e) => this.opts.log.debug('mqtt error', { error: e.message }));
    client.on('message', (topic, payload) => void this.onMessage(topic, payload));
  }

  /** Takes our place in the room: subscribes now (if connected) and after every reconnect. */
  enter(): void {
    if (this.closed || this.entered) return;
    this.entered = true;
    if (this.client?.connected) void this.subscribe(this.client);
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
      // It opened with the room's key, so it is the other person's app, in another version: say so.
      if (e instanceof ProtocolError && e.reason === 'version' && !this.closed) this.emit('incompatible', Number(e.detail));
      this.drop((e as { reason?: string }).reason ?? 'error');
    }
  }

  private drop(reason: string): void {
    this.opts.log.warn('signaling message dropped', { reason });
  }

  async send(message: SignalMessage): Promise<void> {
    const client = this.client;
    if (!client || this.closed) return;
    const kind = topicKindOf(message.type);
    const topic = peerTopic(this.opts.room, this.peerId, kind);
    // Sealing is async and takes longer for a big SDP than for a small message,
    // so without this chain a candidate or a verification step sent after an
    // answer could be published before it. Seals run one after another and
    // each publish starts in call order; the PUBACKs are not waited for.
    const sealed = this.sealing.then(() => sealMessage(this.opts.key, topic, message));
    this.sealing = sealed.then(
      () => undefined,
      () => undefined,
    );
    const payload = await sealed;
    await client.publishAsync(topic, payload as Buffer, { qos: 1, retain: kind === 'presence' });
  }

  async seal(message: SignalMessage): Promise<SealedMessage> {
    const topic = peerTopic(this.opts.room, this.peerId, topicKindOf(message.type));
    return { topic, payload: await sealMessage(this.opts.key, topic, message) };
  }

  /**
   * QoS 0 and no await: mqtt.js writes the packet to the WebSocket within this
   * call, so it leaves even from a pagehide handler, after which the page may
   * never run another task.
   */
  sendSealed(sealed: SealedMessage): void {
    if (!this.closed && this.client?.connected) this.client.publish(sealed.topic, sealed.payload as Buffer, { qos: 0 });
  }

  async clearPresence(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.publishAsync(peerTopic(this.opts.room, this.peerId, 'presence'), new Uint8Array(0) as Buffer, { qos: 1, retain: true });
  }

  /** Reconnects now if the socket is down (page became visible, network came back). */
  checkNow(): void {
    if (this.closed || !this.client || this.client.connected || this.status === 'full' || this.status === 'failed') return;
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
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
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.removeAllListeners();
    await this.client?.endAsync(force).catch(() => undefined);
  }
}
