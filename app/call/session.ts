/**
 * One person's side of a call. Owns the RTCPeerConnection (through a
 * Negotiator), decides which remote connection each signaling message belongs
 * to (instances.ts), and runs the effects of the pure state machine.
 */
import { newSessionId, sdpFingerprint, type MediaState, type MessageOf, type PeerId, type SignalMessage, type Target, type WireDescription } from '../../protocol/index';
import { Emitter } from '../lib/emitter';
import type { CallErrorReason } from './errors';
import { addressedToMe, arrival, CandidateParking, instanceOf, relation, type Relation, type RemoteInstance, type Sender } from './instances';
import { routeMessage, type MessageHandlers } from './router';
import { DEFAULT_TIMINGS, initialContext, transition, type CallContext, type CallEvent, type Effect, type TimerName } from './machine';
import { Negotiator } from './negotiator';
import type { SessionDeps, SessionEvents, SignalingStatus } from './ports';

export type { SessionDeps, SessionEvents } from './ports';
import { Outbox } from './outbox';
import { Timers } from './timers';
import { addLocalTracks, pendingOffer, videoSender } from './tracks';

export class CallSession extends Emitter<SessionEvents> {
  readonly sessionId = newSessionId();
  private ctx = initialContext();
  private gen = 0;
  private neg: Negotiator | null = null;
  private remote: RemoteInstance | null = null;
  private lastPresence: MessageOf<'presence'> | null = null;
  /** The other side's presence was cleared while media still flowed (a signaling blip or a crash: ICE will tell). */
  private remotePresenceGone = false;
  private readonly parking = new CandidateParking();
  private readonly timers: Timers<TimerName>;
  private readonly out: Outbox;
  private mediaState: MediaState = { audioMuted: false, videoOff: false, screen: false };
  private readonly unsubscribe: Array<() => void> = [];
  private started = false;
  /** What we send as video now: camera, screen, or nothing (camera off). */
  private videoTrack: MediaStreamTrack | null;
  private leaving: Promise<void> = Promise.resolve();
  private closed = false;
  /** Offers and answers this side has sent: tests check that track switches don't renegotiate. */
  private descriptionsSent = 0;

  constructor(private readonly deps: SessionDeps) {
    super();
    this.timers = new Timers(deps.clock);
    this.out = new Outbox(deps.signaling, deps.log, this.sessionId, () => this.gen);
    this.videoTrack = deps.localStream.getVideoTracks()[0] ?? null;
    const s = deps.signaling;
    this.unsubscribe.push(
      s.on('message', (m) => this.onMessage(m)),
      s.on('presence-cleared', (peer) => this.onPresenceCleared(peer)),
      s.on('status', (status) => this.onSignalingStatus(status)),
    );
  }

  get context(): CallContext {
    return this.ctx;
  }

  /** Someone's presence is here (before we started: the retained one). */
  get peerWaiting(): boolean {
    return this.lastPresence !== null;
  }

  /** The person tapped Join (or Start): enter the room. */
  start(): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.dispatch({ type: 'joined' });
    if (this.ctx.state !== 'waiting') return;
    const presence = this.lastPresence;
    if (!presence) {
      this.newConnection(null);
      return;
    }
    this.bind(presence);
    this.newConnection(presence.offer);
    this.announce();
  }

  /** Resolves once the bye and the cleared presence have been handed to signaling. */
  async hangup(): Promise<void> {
    if (this.closed) return;
    this.dispatch({ type: 'hangup' });
    await this.leaving;
  }

  /**
   * The page is going away (tab closed, Back out of the app): say bye at once,
   * so the other side sees it now instead of a frozen picture until ICE gives
   * up. A reload comes back into the call by itself (rejoin.ts).
   */
  leaveNow(): void {
    if (!this.closed && this.started) this.out.byeNow();
  }

  /** Online/offline, a connection-type change, or the page became visible with a broken path: check now. */
  networkChanged(): void {
    if (!this.closed) this.dispatch({ type: 'network-change' });
  }

  /** Connected, but nothing received for a while (quality.ts): restart ICE, or after a restart that didn't help, rebuild. */
  mediaStalled(again: boolean): void {
    if (!this.closed) this.dispatch({ type: 'media-stalled', again });
  }

  /** Replaces the outgoing video without renegotiation (camera switch, camera off, screen share). */
  async replaceVideoTrack(track: MediaStreamTrack | null): Promise<void> {
    if (this.closed) return;
    this.videoTrack = track;
    const sender = this.neg && videoSender(this.neg.pc);
    await sender?.replaceTrack(track);
  }

  /** A headset microphone: the audio sender's track, without renegotiation (issue 14). */
  async replaceAudioTrack(track: MediaStreamTrack): Promise<void> {
    if (this.closed) return;
    await this.neg?.pc.getSenders().find((s) => s.track?.kind === 'audio')?.replaceTrack(track);
  }

  setMediaState(state: MediaState): void {
    if (this.closed) return;
    this.mediaState = state;
    void this.out.media(this.target(), this.mediaState);
  }

  fail(reason: CallErrorReason): void {
    this.dispatch({ type: 'error', reason });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearAll();
    for (const u of this.unsubscribe) u();
    this.neg?.close();
    this.neg = null;
    this.removeAllListeners();
  }

  // ---- state machine ----------------------------------------------------

  private dispatch(event: CallEvent): void {
    if (this.closed) return;
    const { context, effects } = transition(this.ctx, event, this.deps.clock.now(), this.deps.timings ?? DEFAULT_TIMINGS);
    if (context !== this.ctx) {
      const old = this.ctx.state;
      this.ctx = context;
      if (old !== context.state) this.deps.log.debug(`call ${old} -> ${context.state}`, { event: event.type });
      this.emit('state', context);
    }
    for (const effect of effects) this.run(effect);
  }

  private run(effect: Effect): void {
    switch (effect.type) {
      case 'set-timer':
        this.timers.set(effect.name, effect.ms, () => {
          // An ICE restart that healed the path without leaving `connected` fires no
          // state event; check the real state before the machine escalates.
          if (this.ctx.state === 'reconnecting' && this.neg?.pc.connectionState === 'connected') this.dispatch({ type: 'peer-connection', state: 'connected' });
          this.dispatch({ type: 'timer', name: effect.name });
        });
        return;
      case 'clear-timer':
        this.timers.clear(effect.name);
        return;
      case 'restart-ice':
        this.deps.log.debug('ICE restart');
        this.neg?.restartIce();
        return;
      case 'rebuild-connection':
        this.newConnection(null);
        return;
      case 'wait-again':
        this.remote = null;
        this.remotePresenceGone = false;
        this.emit('remote-media', null);
        this.newConnection(null);
        return;
      case 'leave':
        this.leaving = this.leave();
        return;
      default: {
        const never: never = effect;
        throw new Error(`unhandled effect ${JSON.stringify(never)}`);
      }
    }
  }

  private async leave(): Promise<void> {
    const to = this.target();
    this.neg?.close();
    this.neg = null;
    this.emit('peer-connection', null);
    await Promise.allSettled([this.out.send({ type: 'bye', to }), this.deps.signaling.clearPresence()]);
  }

  // ---- connections --------------------------------------------------------

  /** The fixed rule: the lower peer id is polite; the impolite side starts ICE restarts. */
  private polite(): boolean {
    return this.remote !== null && this.deps.signaling.peerId < this.remote.peer;
  }

  private target(): Target | null {
    return this.remote ? { session: this.remote.session, gen: this.remote.gen } : null;
  }

  private bind(m: Sender): void {
    this.remote = instanceOf(m);
    this.remotePresenceGone = false;
    if (this.neg) this.neg.polite = this.polite();
    this.emit('bound', m.from);
  }

  /** Sends a verification step to the connection we're bound to. */
  sendToPeer(body: { type: 'verify-commit'; commit: string } | { type: 'verify-reveal'; nonce: string } | { type: 'contact'; inbox: string; key: string }): void {
    const to = this.target();
    if (to && !this.closed) void this.out.send({ ...body, to });
  }

  /**
   * After each remote description, applied or refused: our fingerprint and
   * the one the peer sent (what a relay swapping certificates would change,
   * even if the browser refuses it). parseMessage already checked its shape.
   */
  private negotiated(neg: Negotiator, remote: WireDescription): void {
    const l = neg.pc.localDescription?.sdp;
    if (neg === this.neg && l) this.emit('fingerprints', sdpFingerprint(l), sdpFingerprint(remote.sdp));
  }

  /** Builds a fresh RTCPeerConnection; applies `offer` before adding tracks so the answer reuses its transceivers. */
  private newConnection(offer: WireDescription | null): void {
    this.neg?.close();
    this.gen++;
    this.out.prepareBye();
    const neg = new Negotiator(this.deps.createPeerConnection(), this.polite(), this.deps.log);
    this.neg = neg;
    const remoteStream = this.deps.createMediaStream();
    this.emit('remote-stream', null);
    neg.on('description', (d) => void this.onLocalDescription(neg, d));
    neg.on('candidate', (candidate) => {
      const to = this.target();
      if (to) void this.out.send({ type: 'candidate', to, candidate });
    });
    neg.on('gathering-complete', () => {
      // While waiting, keep the retained offer complete for a late joiner.
      const d = neg.pc.localDescription;
      if (!this.remote && d?.type === 'offer') void this.out.presence({ type: 'offer', sdp: d.sdp });
    });
    neg.on('connection-state', (state) => {
      if (this.remotePresenceGone && (state === 'disconnected' || state === 'failed')) {
        this.dispatch({ type: 'remote-left' });
        return;
      }
      this.dispatch({ type: 'peer-connection', state });
      // Whoever offered or answered, the other side learns our mute/camera state once media flows.
      if (state === 'connected') void this.out.media(this.target(), this.mediaState);
    });
    neg.on('track', (track) => {
      remoteStream.addTrack(track);
      this.emit('remote-stream', remoteStream);
    });
    neg.on('error', (e) => this.deps.log.warn('negotiation failed', { error: String(e) }));
    this.emit('peer-connection', neg.pc);
    const addTracks = () => addLocalTracks(neg.pc, this.deps.localStream, this.videoTrack);
    if (offer) {
      neg.beforeAnswer = addTracks;
      this.apply(offer);
    } else {
      addTracks();
      this.flushParked();
    }
  }

  private apply(description: WireDescription): void {
    const neg = this.neg;
    void neg?.handleDescription(description).then(() => {
      this.flushParked();
      this.negotiated(neg, description);
    });
  }

  private flushParked(): void {
    if (!this.remote || !this.neg) return;
    for (const c of this.parking.take(this.remote)) void this.neg.handleCandidate(c);
  }

  private async onLocalDescription(neg: Negotiator, d: WireDescription): Promise<void> {
    if (neg !== this.neg) return;
    const to = this.target();
    if (!to && d.type !== 'offer') return;
    const n = ++this.descriptionsSent;
    await (to ? this.out.send({ type: 'description', to, description: d }) : this.out.presence(d));
    // After the send: the UI waits on this to render the call screen off the joiner's critical path.
    this.emit('negotiations', n);
  }

  /** A (new) remote connection: bind it, on a fresh RTCPeerConnection if ours already negotiated with someone. */
  private arrive(m: Sender, offer: WireDescription | null, announce: boolean): void {
    const used = this.neg !== null && (this.neg.remoteDescriptions > 0 || this.remote !== null);
    const pending = used ? null : pendingOffer(this.neg?.pc);
    const firstOfferOurs = !used && this.neg?.firstOfferInFlight === true;
    this.bind(m);
    const action = arrival({ used, offer: offer !== null, firstOfferOurs, polite: this.polite(), connection: this.neg !== null });
    if (action === 'await-their-offer') {
      this.neg?.close();
      this.neg = null;
      this.emit('remote-stream', null);
    } else if (action === 'apply-offer') this.apply(offer!);
    else if (action === 'flush-candidates') this.flushParked();
    else this.newConnection(offer);
    if (offer) void this.out.pendingOffer(this.target(), pending, this.polite());
    void this.out.candidates(this.target(), this.neg?.localCandidates ?? []);
    if (announce) this.announce();
  }

  /** Tell the room we're in a call now (no retained offer), and the machine that someone arrived. */
  private announce(): void {
    void this.out.presence(null);
    this.dispatch({ type: 'remote-arrived', restarter: !this.polite() });
  }

  // ---- incoming -----------------------------------------------------------

  private onSignalingStatus(status: SignalingStatus): void {
    if (status === 'full') {
      this.dispatch({ type: 'full' });
      return;
    }
    if (status !== 'connected' || !this.started || this.closed) return;
    // Back after a broker restart or a network blip: a restarted broker lost our
    // retained presence, so say again who we are (and our offer, if we wait).
    const d = this.neg?.pc.localDescription;
    void this.out.presence(!this.remote && d?.type === 'offer' ? { type: 'offer', sdp: d.sdp } : null);
    if (this.remote) void this.out.media(this.target(), this.mediaState);
  }

  private onMessage(m: SignalMessage): void {
    if (this.closed || m.from === this.deps.signaling.peerId) return;
    this.deps.log.debug('recv', { type: m.type, kind: m.type === 'description' ? m.description.type : undefined, session: m.session, gen: m.gen, mine: `${this.sessionId}/${this.gen}` });
    if (!this.started) {
      if (m.type === 'presence') {
        this.lastPresence = m;
        this.emit('peer-present');
      }
      return;
    }
    if (this.ctx.state === 'ended' || this.ctx.state === 'full' || this.ctx.state === 'error') return;
    const rel = relation(this.remote, m);
    // Stale: from a connection the sender has since replaced. Verification spans their connections.
    if (rel === 'older' && m.type !== 'verify-commit' && m.type !== 'verify-reveal' && m.type !== 'contact') return;
    routeMessage(this.handlers, m, rel);
  }

  private readonly handlers: MessageHandlers<[Relation]> = {
    presence: (m, rel) => this.onPresence(m, rel),
    description: (m, rel) => this.onDescription(m, rel),
    candidate: (m, rel) => {
      if (rel === 'same' && this.neg) void this.neg.handleCandidate(m.candidate);
      else this.parking.park(m, m.candidate); // it overtook its description
    },
    media: (m, rel) => {
      if (rel === 'same' || rel === 'newer') this.emit('remote-media', m.state);
    },
    bye: (_m, rel) => {
      if (rel === 'same' || rel === 'newer') this.dispatch({ type: 'remote-left' });
    },
    // Verification spans the bound page's connections (older ones too), and must be addressed to this page.
    'verify-commit': (m, rel) => this.verifyFrom(m, rel),
    'verify-reveal': (m, rel) => this.verifyFrom(m, rel),
    // A contact offer is about the person, not a connection: any of the bound page's connections may carry it.
    contact: (m, rel) => {
      if ((rel === 'same' || rel === 'newer' || rel === 'older') && m.to.session === this.sessionId) this.emit('contact', m);
    },
  };

  private onPresence(m: MessageOf<'presence'>, rel: Relation): void {
    this.lastPresence = m;
    if (rel === 'same') {
      this.remotePresenceGone = false;
      // An offer that appeared after we bound (their camera was slow): apply it once.
      const pc = this.neg?.pc;
      if (m.offer && pc && this.neg!.remoteDescriptions === 0 && pc.signalingState === 'stable' && !pc.localDescription) this.apply(m.offer);
      return;
    }
    // A newer connection of the peer we are bound to negotiates with us through
    // signal messages; its retained offer may already be stale (rolled back).
    if (rel === 'newer') return;
    this.arrive(m, m.offer, true);
  }

  private onDescription(m: MessageOf<'description'>, rel: Relation): void {
    const kind = m.description.type;
    if (!addressedToMe(m.to, { session: this.sessionId, gen: this.gen }, kind)) return;
    if (!this.neg) {
      // We were waiting for the arriving side's offer (see arrive()).
      if (kind !== 'offer') return;
      this.bind(m);
      this.newConnection(m.description);
      return;
    }
    // Their offer against our own first one (see arrive(): the polite side never rolls a first offer back).
    const collides = kind === 'offer' && this.neg.firstOfferInFlight;
    if (rel === 'same' && !(collides && this.polite())) {
      this.apply(m.description);
      return;
    }
    // From a new connection of theirs, or colliding. An answer answers our current
    // offer (same connection); an offer needs a fresh connection of ours if this
    // one already negotiated, or if it collides and we are the polite side.
    const pending = kind === 'offer' && this.neg.remoteDescriptions === 0 ? pendingOffer(this.neg.pc) : null;
    this.bind(m);
    const rebuild = kind === 'offer' && (this.neg.remoteDescriptions > 0 || (collides && this.polite()));
    if (rebuild) this.newConnection(m.description);
    else this.apply(m.description);
    void this.out.pendingOffer(this.target(), pending, this.polite());
    // A newer connection of the bound peer, or the bound one itself, has been announced to already.
    if (rel !== 'newer' && rel !== 'same') this.announce();
  }

  private verifyFrom(m: MessageOf<'verify-commit'> | MessageOf<'verify-reveal'>, rel: Relation): void {
    if ((rel === 'same' || rel === 'newer' || rel === 'older') && m.to.session === this.sessionId) this.emit('verify', m);
  }

  private onPresenceCleared(peer: PeerId): void {
    if (this.lastPresence?.from === peer) this.lastPresence = null;
    if (!this.started || this.remote?.peer !== peer) return;
    // A takeover or a broker restart clears presence while media still flows;
    // only a media path that also breaks means they are really gone.
    if (this.neg?.pc.connectionState === 'connected') {
      this.remotePresenceGone = true;
      return;
    }
    this.dispatch({ type: 'remote-left' });
  }
}
