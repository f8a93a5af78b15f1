/**
 * A small, rule-following stand-in for RTCPeerConnection, MediaStream and
 * MediaStreamTrack, so whole calls (two controllers, a real broker, real
 * mqtt.js) run under vitest in Node.
 *
 * What it keeps from the real thing, because the call core depends on it:
 * - JSEP's signaling states, with the implicit rollback of a local offer when
 *   a remote offer arrives, and errors for out-of-order descriptions;
 * - negotiationneeded after a track or transceiver is added, or restartIce();
 * - trickled candidates (which the test can hold back) and a retained-offer
 *   SDP that gains its candidates once gathering completes;
 * - a connection that only comes up when both sides hold each other's current
 *   ICE credentials and at least one of the other side's candidates, so a lost
 *   description or candidate really leaves the call unconnected;
 * - track events per negotiated m-section, and replaceTrack without renegotiation.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';

let nextId = 0;

/** Emits `settle` whenever any fake network re-evaluates (a description, a candidate, a cut): waiters re-check on it. */
export const activity = new EventEmitter();

export class FakeTrack {
  readonly id = `track-${++nextId}`;
  enabled = true;
  readyState: 'live' | 'ended' = 'live';
  constructor(readonly kind: 'audio' | 'video') {}
  stop(): void {
    this.readyState = 'ended';
  }
  getSettings(): MediaTrackSettings {
    return {};
  }
  addEventListener(): void {}
  removeEventListener(): void {}
}

export class FakeStream {
  readonly id = `stream-${++nextId}`;
  private tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks = [...tracks];
  }
  getTracks = () => [...this.tracks];
  getAudioTracks = () => this.tracks.filter((t) => t.kind === 'audio');
  getVideoTracks = () => this.tracks.filter((t) => t.kind === 'video');
  addTrack = (t: FakeTrack) => void (this.tracks.includes(t) || this.tracks.push(t));
  removeTrack = (t: FakeTrack) => void (this.tracks = this.tracks.filter((x) => x !== t));
}

export const cameraStream = () => new FakeStream([new FakeTrack('audio'), new FakeTrack('video')]);

type Kind = 'audio' | 'video';

interface Transceiver {
  mid: string;
  direction: RTCRtpTransceiverDirection;
  currentDirection: RTCRtpTransceiverDirection | null;
  receiver: { track: FakeTrack };
  sender: { track: FakeTrack | null; replaceTrack(t: FakeTrack | null): Promise<void>; setStreams(): void };
  /** track event fired for the receiver. */
  announced: boolean;
}

/** Stands in for an RTCCertificate: what matters to the call is its fingerprint. */
export interface FakeCertificate {
  fingerprint: string;
}

export const fakeCertificate = (): RTCCertificate => ({ fingerprint: fingerprint() }) as unknown as RTCCertificate;

const fingerprint = () => [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');

/** Links the fake peer connections of one test: who can reach whom, and what the network does. */
export class FakeNet {
  readonly pcs = new Set<FakePeerConnection>();
  /** While true, gathered candidates are queued instead of emitted. */
  holdCandidates = false;
  private held: Array<() => void> = [];
  /** Peer connections whose network is cut: they go disconnected, then failed. */
  readonly cut = new Set<FakePeerConnection>();

  /** Cut peers whose ICE has given up (disconnected -> failed). */
  readonly givenUp = new Set<FakePeerConnection>();

  /** Cuts these peers' network: connected -> disconnected now, failed on failCut(). */
  cutNetwork(...pcs: FakePeerConnection[]): void {
    for (const pc of pcs) this.cut.add(pc);
    this.settle();
  }

  /** ICE gave up on every cut path. */
  failCut(): void {
    for (const pc of this.cut) this.givenUp.add(pc);
    this.settle();
  }

  restoreNetwork(...pcs: FakePeerConnection[]): void {
    for (const pc of pcs) {
      this.cut.delete(pc);
      this.givenUp.delete(pc);
    }
    this.settle();
  }

  releaseCandidates(): void {
    this.holdCandidates = false;
    for (const f of this.held.splice(0)) f();
  }

  hold(f: () => void): void {
    if (this.holdCandidates) this.held.push(f);
    else f();
  }

  byUfrag(ufrag: string): FakePeerConnection | undefined {
    for (const pc of this.pcs) if (pc.localUfrag === ufrag && pc.signalingState !== 'closed') return pc;
    return undefined;
  }

  /** Re-evaluates every connection (after a description, a candidate, or a cut). */
  settle(): void {
    for (const pc of this.pcs) pc.evaluate();
    activity.emit('settle');
  }

  factory = (config: RTCConfiguration = {}): RTCPeerConnection => new FakePeerConnection(this, config) as unknown as RTCPeerConnection;
}

export class FakePeerConnection extends EventEmitter {
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: { type: 'offer' | 'answer'; sdp: string } | null = null;
  remoteDescription: { type: 'offer' | 'answer'; sdp: string } | null = null;
  private stableLocal: { type: 'offer' | 'answer'; sdp: string } | null = null;
  readonly transceivers: Transceiver[] = [];
  /** From the certificate we were given (one per page session), else our own. */
  readonly fingerprint: string;
  localUfrag = randomBytes(4).toString('hex');
  private restartPending = false;
  private negotiationQueued = false;
  private version = 0;
  /** Remote candidates we know of: from the remote SDP or trickled. */
  readonly remoteCandidates = new Set<string>();
  /** Every remote description applied, for tests that check what was (not) accepted. */
  readonly appliedRemote: string[] = [];

  constructor(
    private readonly net: FakeNet,
    private config: RTCConfiguration,
  ) {
    super();
    this.fingerprint = (config.certificates?.[0] as unknown as FakeCertificate | undefined)?.fingerprint ?? fingerprint();
    net.pcs.add(this);
  }

  // -- EventTarget surface ----------------------------------------------------
  addEventListener(type: string, fn: (ev: unknown) => void): void {
    this.on(type, fn);
  }
  removeEventListener(type: string, fn: (ev: unknown) => void): void {
    this.off(type, fn);
  }
  private fire(type: string, ev: unknown = {}): void {
    this.emit(type, ev);
  }

  getConfiguration(): RTCConfiguration {
    return this.config;
  }
  setConfiguration(config: RTCConfiguration): void {
    this.config = config;
  }
  getTransceivers(): Transceiver[] {
    return this.transceivers;
  }
  getSenders() {
    return this.transceivers.map((t) => t.sender);
  }
  async getStats(): Promise<Map<string, unknown>> {
    return new Map();
  }

  private transceiver(kind: Kind, direction: RTCRtpTransceiverDirection): Transceiver {
    const t: Transceiver = {
      mid: String(this.transceivers.length),
      direction,
      currentDirection: null,
      receiver: { track: new FakeTrack(kind) },
      sender: {
        track: null,
        replaceTrack: async (track) => {
          t.sender.track = track;
        },
        setStreams: () => undefined,
      },
      announced: false,
    };
    this.transceivers.push(t);
    return t;
  }

  addTrack(track: FakeTrack): Transceiver['sender'] {
    const free = this.transceivers.find((t) => t.receiver.track.kind === track.kind && !t.sender.track);
    if (free) {
      free.sender.track = track;
      free.direction = 'sendrecv';
      return free.sender;
    }
    const t = this.transceiver(track.kind, 'sendrecv');
    t.sender.track = track;
    this.needNegotiation();
    return t.sender;
  }

  addTransceiver(kind: Kind, init: { direction?: RTCRtpTransceiverDirection } = {}): Transceiver {
    const t = this.transceiver(kind, init.direction ?? 'sendrecv');
    this.needNegotiation();
    return t;
  }

  restartIce(): void {
    this.restartPending = true;
    this.needNegotiation();
  }

  /** Like Chromium: queued as a task, fired only while stable. */
  private needNegotiation(): void {
    if (this.negotiationQueued) return;
    this.negotiationQueued = true;
    setTimeout(() => {
      this.negotiationQueued = false;
      if (this.signalingState === 'stable') this.fire('negotiationneeded');
    }, 0);
  }

  private sdp(type: 'offer' | 'answer'): string {
    const kinds = this.transceivers.map((t) => t.receiver.track.kind);
    const lines = ['v=0', `o=- ${this.localUfrag} ${++this.version} IN IP4 127.0.0.1`, 's=-', 't=0 0', `a=ice-ufrag:${this.localUfrag}`, `a=fingerprint:sha-256 ${this.fingerprint}`, `a=setup:${type === 'offer' ? 'actpass' : 'active'}`];
    for (const k of kinds) lines.push(`m=${k} 9 UDP/TLS/RTP/SAVPF 96`);
    return `${lines.join('\r\n')}\r\n`;
  }

  async setLocalDescription(): Promise<void> {
    await Promise.resolve();
    if (this.signalingState === 'stable') {
      if (this.restartPending) this.localUfrag = randomBytes(4).toString('hex');
      this.restartPending = false;
      this.localDescription = { type: 'offer', sdp: this.sdp('offer') };
      this.signalingState = 'have-local-offer';
    } else if (this.signalingState === 'have-remote-offer') {
      // An ICE restart offer (new ufrag) gets an answer with new credentials too.
      if (this.restartPending) this.localUfrag = randomBytes(4).toString('hex');
      this.restartPending = false;
      this.localDescription = { type: 'answer', sdp: this.sdp('answer') };
      this.stableLocal = this.localDescription;
      this.signalingState = 'stable';
      this.net.settle();
    } else {
      throw new DOMException(`setLocalDescription in ${this.signalingState}`, 'InvalidStateError');
    }
    this.gather();
  }

  /** One host candidate per description, trickled, then end-of-candidates; the SDP then carries it. */
  private gather(): void {
    const ufrag = this.localUfrag;
    setTimeout(() => {
      this.net.hold(() => {
        if (this.signalingState === 'closed' || ufrag !== this.localUfrag) return;
        const candidate = `candidate:1 1 udp 2122260223 127.0.0.1 ${40000 + (nextId++ % 20000)} typ host ufrag ${ufrag}`;
        if (this.localDescription) this.localDescription = { ...this.localDescription, sdp: `${this.localDescription.sdp}a=${candidate}\r\n` };
        this.fire('icecandidate', { candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: ufrag } });
        this.fire('icecandidate', { candidate: null });
      });
    }, 0);
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    await Promise.resolve();
    if (this.signalingState === 'closed') throw new DOMException('closed', 'InvalidStateError');
    if (d.type === 'offer') {
      // JSEP: a remote offer while we have a local one rolls ours back first.
      if (this.signalingState === 'have-local-offer') this.localDescription = this.stableLocal;
      else if (this.signalingState !== 'stable') throw new DOMException(`remote offer in ${this.signalingState}`, 'InvalidStateError');
      const previous = this.remoteUfrag;
      this.signalingState = 'have-remote-offer';
      if (previous && previous !== /a=ice-ufrag:(\S+)/.exec(d.sdp)?.[1]) this.restartPending = true;
      const kinds = [...d.sdp.matchAll(/^m=(audio|video)/gm)].map((m) => m[1] as Kind);
      kinds.forEach((k, i) => {
        if (!this.transceivers[i]) this.transceiver(k, 'recvonly');
      });
    } else {
      if (this.signalingState !== 'have-local-offer') throw new DOMException(`answer in ${this.signalingState}`, 'InvalidStateError');
      this.signalingState = 'stable';
      this.stableLocal = this.localDescription;
    }
    this.remoteDescription = d;
    this.appliedRemote.push(d.sdp);
    for (const line of d.sdp.split(/\r\n/)) if (line.startsWith('a=candidate:')) this.remoteCandidates.add(line.slice(2));
    for (const t of this.transceivers) {
      t.currentDirection = t.direction;
      if (!t.announced) {
        t.announced = true;
        this.fire('track', { track: t.receiver.track, streams: [] });
      }
    }
    this.net.settle();
  }

  async addIceCandidate(c: { candidate: string }): Promise<void> {
    await Promise.resolve();
    if (!this.remoteDescription) throw new DOMException('no remote description', 'InvalidStateError');
    this.remoteCandidates.add(c.candidate);
    this.net.settle();
  }

  get remoteUfrag(): string | null {
    return /a=ice-ufrag:(\S+)/.exec(this.remoteDescription?.sdp ?? '')?.[1] ?? null;
  }

  /** Can ICE succeed? Both stable, each holding the other's current ufrag and one of its candidates. */
  private reachable(): boolean {
    if (this.signalingState !== 'stable' || !this.remoteUfrag || this.net.cut.has(this)) return false;
    const other = this.net.byUfrag(this.remoteUfrag);
    if (!other || other.signalingState !== 'stable' || other.remoteUfrag !== this.localUfrag || this.net.cut.has(other)) return false;
    const has = (pc: FakePeerConnection, ufrag: string) => [...pc.remoteCandidates].some((c) => c.endsWith(`ufrag ${ufrag}`));
    return has(this, other.localUfrag) && has(other, this.localUfrag);
  }

  /** The state the last queued change will set (what the next evaluation starts from). */
  private planned: RTCPeerConnectionState = 'new';

  evaluate(): void {
    if (this.signalingState === 'closed') return;
    const up = this.reachable();
    const was = this.planned;
    let next = was;
    if (up) next = 'connected';
    else if (this.net.cut.has(this) && was === 'connected') next = 'disconnected';
    else if (this.net.givenUp.has(this) && was === 'disconnected') next = 'failed';
    else if (was === 'new' && this.remoteDescription) next = 'connecting';
    if (next === was) return;
    this.planned = next;
    // Like a browser: the attribute changes in the same task that fires the event.
    setTimeout(() => {
      if (this.signalingState === 'closed') return;
      this.connectionState = next;
      this.fire('connectionstatechange');
    }, 0);
  }

  close(): void {
    this.signalingState = 'closed';
    this.connectionState = 'closed';
    this.net.pcs.delete(this);
  }
}
