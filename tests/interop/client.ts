/**
 * A Tandem call peer that isn't ours: werift (pure-TypeScript WebRTC) +
 * mqtt.js + Node's crypto, written from protocol/README.md alone. It joins a
 * call that a Tandem app waits in, or waits with its own retained offer; it
 * receives the app's media (sends none) and works out the verification code.
 *
 * Deliberately small: one connection, no reconnects, no renegotiation of its
 * own. It answers any offer the app sends (an ICE restart), which is all the
 * page's perfect-negotiation rule asks of a side that never offers again.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { RTCPeerConnection, type RTCIceServer } from 'werift';
import { b64u, codeOf, commitOf, fingerprintOf, keyOf, newNonce, newToken, open, peerIdOf, roomFiltersOf, roomIdOf, seal, topicOf } from './wire';
import { randomBytes } from 'node:crypto';

export interface InteropOptions {
  /** The server's origin, e.g. http://127.0.0.1:3000. */
  origin: string;
  secret: string;
  /** Used when the server offers no ICE servers: werift would otherwise ask a public STUN server and wait 5 s. */
  fallbackIceServers?: RTCIceServer[];
  log?: (line: string) => void;
}

interface Target {
  session: string;
  gen: number;
}

type Message = Record<string, unknown> & { v: number; from: string; session: string; gen: number; type: string; to?: Target | null };

export class InteropClient extends EventEmitter<{ code: [string[]]; connected: []; video: [number] }> {
  readonly token = newToken();
  readonly peerId = peerIdOf(this.token);
  readonly room: string;
  /** "session: random per page load" (8 characters here, as the app); gen counts our connections. */
  readonly session = b64u(randomBytes(6));
  readonly gen = 1;
  /** RTP packets of the app's video received so far. */
  videoPackets = 0;
  code: string[] | null = null;
  private readonly key: Buffer;
  private mqtt: MqttClient | null = null;
  private pc: RTCPeerConnection | null = null;
  private remote: (Target & { peer: string }) | null = null;
  /** The app has addressed us: it has bound our connection, so it will take our verification messages. */
  private heardFromRemote = false;
  private readonly pendingCandidates: unknown[] = [];
  private readonly verify = { nonce: newNonce(), pinned: null as string | null, theirCommit: null as string | null, committed: false, revealed: false, theirNonce: null as string | null };
  private iceServers: RTCIceServer[] = [];

  constructor(private readonly opts: InteropOptions) {
    super();
    this.room = roomIdOf(opts.secret);
    this.key = keyOf(opts.secret);
  }

  private log(line: string): void {
    this.opts.log?.(`[interop ${this.peerId}] ${line}`);
  }

  /** Connects and subscribes (takes a place in the room); resolves once we're admitted. */
  async enter(): Promise<void> {
    const config = (await (await fetch(`${this.opts.origin}/config.json`)).json()) as { brokerUrl: string | null; iceServers: RTCIceServer[] };
    const brokerUrl = config.brokerUrl ?? `${this.opts.origin.replace(/^http/, 'ws')}/mqtt`;
    const presence = topicOf(this.room, this.peerId, 'presence');
    const client = mqtt.connect(brokerUrl, {
      clientId: `${this.room}.${this.peerId}`,
      username: this.room,
      password: this.token,
      protocolVersion: 4,
      clean: true,
      keepalive: 10,
      reconnectPeriod: 0,
      will: { topic: presence, payload: Buffer.alloc(0), qos: 1, retain: true },
    });
    this.mqtt = client;
    client.on('message', (topic, payload) => this.onMqtt(topic, payload));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const granted = await client.subscribeAsync(roomFiltersOf(this.room), { qos: 1 });
    if (granted.some((g) => (g.qos & 0x80) !== 0)) throw new Error('room full');
    // TURN credentials are only for a client admitted to a room, asked for from the same address.
    const ice = await fetch(`${this.opts.origin}/api/ice?client=${encodeURIComponent(`${this.room}.${this.peerId}`)}`);
    const servers = ice.ok ? ((await ice.json()) as { iceServers: RTCIceServer[] }).iceServers : config.iceServers;
    this.iceServers = servers.length > 0 ? servers : (this.opts.fallbackIceServers ?? []);
  }

  /** "Nobody is there": wait with a retained offer carrying every candidate. */
  async waitWithOffer(): Promise<void> {
    const pc = this.newPeerConnection();
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const sub = pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && (sub.unSubscribe(), resolve()));
    });
    await this.publish('presence', { type: 'presence', offer: { type: 'offer', sdp: pc.localDescription!.sdp } });
    this.log('waiting with a retained offer');
  }

  private newPeerConnection(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    pc.onIceCandidate.subscribe((c) => {
      if (c?.candidate && this.remote) void this.send('candidate', { candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null, usernameFragment: null } });
    });
    pc.connectionStateChange.subscribe((s) => {
      this.log(`connection ${s}`);
      if (s === 'connected') this.emit('connected');
    });
    pc.onTrack.subscribe((track) => {
      if (track.kind !== 'video') return;
      track.onReceiveRtp.subscribe(() => this.emit('video', ++this.videoPackets));
    });
    return pc;
  }

  private onMqtt(topic: string, payload: Buffer): void {
    const [, , room, peer, kind] = topic.split('/');
    if (room !== this.room || peer === this.peerId || payload.length === 0) return;
    let m: Message;
    try {
      m = JSON.parse(open(this.key, topic, payload)) as Message;
    } catch {
      return this.log(`dropped a payload on ${kind}`);
    }
    if (m.v !== 2 || m.from !== peer) return;
    if (m.to && m.to.session === this.session) this.heardFromRemote = true;
    void this.handle(m).catch((e: unknown) => this.log(`${m.type} failed: ${String(e)}`));
  }

  private async handle(m: Message): Promise<void> {
    const addressed = m.to?.session === this.session;
    switch (m.type) {
      case 'presence':
        // "Someone is there": bind to that instance and answer its offer.
        if (!this.remote && m.offer) {
          this.remote = { peer: m.from, session: m.session, gen: m.gen };
          await this.applyOffer((m.offer as { sdp: string }).sdp);
          await this.publish('presence', { type: 'presence', offer: null });
        }
        return;
      case 'description': {
        if (!addressed) return;
        const d = m.description as { type: 'offer' | 'answer'; sdp: string };
        this.remote ??= { peer: m.from, session: m.session, gen: m.gen };
        if (d.type === 'offer') return this.applyOffer(d.sdp);
        if (m.to?.gen !== this.gen) return;
        await this.pc!.setRemoteDescription({ type: 'answer', sdp: d.sdp });
        for (const c of this.pendingCandidates.splice(0)) await this.pc!.addIceCandidate(c as never);
        return this.pinAndCommit(d.sdp);
      }
      case 'candidate':
        if (!addressed) return;
        if (this.pc?.remoteDescription) await this.pc.addIceCandidate(m.candidate as never);
        else this.pendingCandidates.push(m.candidate);
        return;
      case 'verify-commit':
        if (!addressed) return;
        this.verify.theirCommit = m.commit as string;
        return this.pinAndCommit(null);
      case 'verify-reveal':
        if (!addressed) return;
        return this.onReveal(m.nonce as string);
      default:
        // media, bye, contact: nothing this client needs.
        return;
    }
  }

  private async applyOffer(sdp: string): Promise<void> {
    const pc = this.pc ?? this.newPeerConnection();
    await pc.setRemoteDescription({ type: 'offer', sdp });
    for (const t of pc.getTransceivers()) t.setDirection('recvonly');
    await pc.setLocalDescription(await pc.createAnswer());
    for (const c of this.pendingCandidates.splice(0)) await pc.addIceCandidate(c as never);
    await this.send('description', { description: { type: 'answer', sdp: pc.localDescription!.sdp } });
    await this.pinAndCommit(sdp);
  }

  /** Verification steps 1–3: pin their fingerprint, commit to ours, reveal once their commitment is here. */
  private async pinAndCommit(remoteSdp: string | null): Promise<void> {
    const v = this.verify;
    if (remoteSdp && v.pinned === null) v.pinned = fingerprintOf(remoteSdp);
    const local = this.pc?.localDescription?.sdp;
    if (!local || v.pinned === null || !this.heardFromRemote) return;
    const mine = fingerprintOf(local);
    if (!v.committed) {
      v.committed = true;
      await this.send('verify-commit', { commit: commitOf(mine, v.nonce) });
    }
    if (v.theirCommit && !v.revealed) {
      v.revealed = true;
      await this.send('verify-reveal', { nonce: v.nonce });
    }
    if (v.theirNonce && v.revealed) this.finish(mine);
  }

  private async onReveal(nonce: string): Promise<void> {
    const v = this.verify;
    if (!v.theirCommit || !v.pinned) return;
    if (commitOf(v.pinned, nonce) !== v.theirCommit) throw new Error('commitment does not open: someone may be in the middle');
    v.theirNonce = nonce;
    await this.pinAndCommit(null);
  }

  private finish(mine: string): void {
    if (this.code) return;
    this.code = codeOf({ fingerprint: mine, nonce: this.verify.nonce }, { fingerprint: this.verify.pinned!, nonce: this.verify.theirNonce! });
    this.log(`code ${this.code.join(' ')}`);
    this.emit('code', this.code);
  }

  private async publish(kind: 'presence' | 'signal', body: Record<string, unknown>): Promise<void> {
    const topic = topicOf(this.room, this.peerId, kind);
    const json = JSON.stringify({ v: 2, from: this.peerId, session: this.session, gen: this.gen, ...body });
    await this.mqtt?.publishAsync(topic, seal(this.key, topic, json), { qos: 1, retain: kind === 'presence' });
  }

  private send(type: string, body: Record<string, unknown>): Promise<void> {
    const r = this.remote;
    return this.publish('signal', { type, to: r ? { session: r.session, gen: r.gen } : null, ...body });
  }

  /** Hang up: bye, an empty retained presence, disconnect. */
  async close(): Promise<void> {
    if (this.remote) await this.send('bye', {}).catch(() => undefined);
    await this.mqtt?.publishAsync(topicOf(this.room, this.peerId, 'presence'), Buffer.alloc(0), { qos: 1, retain: true }).catch(() => undefined);
    await this.mqtt?.endAsync().catch(() => undefined);
    await this.pc?.close();
  }
}
