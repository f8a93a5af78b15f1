/**
 * One RTCPeerConnection with perfect negotiation (MDN "Perfect negotiation";
 * webrtc/samples perfect-negotiation/js/peer.js): either side may offer at any
 * time (first call, screen share, ICE restart); on a collision the polite side
 * rolls back and the impolite side ignores the incoming offer.
 */
import { MAX_SDP_CANDIDATES, type WireCandidate, type WireDescription } from '../../protocol/index';
import { Emitter } from '../lib/emitter';
import type { PeerConnectionState } from './machine';
import { withOpusFecDtx } from './sdp';

export type NegotiatorEvents = {
  /** A local description to send to the other side. */
  description: (description: WireDescription) => void;
  candidate: (candidate: WireCandidate) => void;
  'gathering-complete': () => void;
  'connection-state': (state: PeerConnectionState) => void;
  track: (track: MediaStreamTrack, streams: readonly MediaStream[]) => void;
  /** Something failed that the other side's messages cannot fix. */
  error: (error: unknown) => void;
};

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
}

/**
 * Remote candidates accepted per remote description (trickled ones; the SDP
 * itself is capped by the codec): a real peer sends a few dozen at most, and
 * each one makes the ICE agent send STUN checks to an address the sender chose.
 */
export const MAX_REMOTE_CANDIDATES = MAX_SDP_CANDIDATES;

export class Negotiator extends Emitter<NegotiatorEvents> {
  private makingOffer = false;
  private ignoreOffer = false;
  private pending: WireCandidate[] = [];
  private closed = false;
  /** Every local candidate so far, so a peer that arrives late can be sent them all. */
  readonly localCandidates: WireCandidate[] = [];
  /** Runs between applying a remote offer and answering it (adds our tracks to its transceivers). */
  beforeAnswer: (() => void) | null = null;
  /** Descriptions applied from the other side (offers and answers). */
  remoteDescriptions = 0;
  /** Remote candidates taken for the current remote description (queued or applied). */
  private remoteCandidates = 0;
  /** Remote candidates dropped over MAX_REMOTE_CANDIDATES. */
  droppedCandidates = 0;

  constructor(
    readonly pc: RTCPeerConnection,
    /** Set when the other peer is known; the fixed rule lives in the session. */
    public polite: boolean,
    private readonly log: Logger,
  ) {
    super();
    pc.addEventListener('negotiationneeded', this.onNegotiationNeeded);
    pc.addEventListener('icecandidate', this.onIceCandidate);
    pc.addEventListener('connectionstatechange', this.onConnectionState);
    pc.addEventListener('track', this.onTrack);
  }

  /** Nothing negotiated yet, and our first offer is being made or awaits its answer (a remote offer now would collide). */
  get firstOfferInFlight(): boolean {
    return this.remoteDescriptions === 0 && (this.makingOffer || this.pc.signalingState === 'have-local-offer');
  }

  private onNegotiationNeeded = async (): Promise<void> => {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.closed) return;
      const d = this.pc.localDescription;
      if (d && d.type === 'offer') this.emit('description', { type: 'offer', sdp: d.sdp });
    } catch (e) {
      this.log.warn('offer failed', { error: String(e) });
    } finally {
      this.makingOffer = false;
    }
  };

  private onIceCandidate = (ev: RTCPeerConnectionIceEvent): void => {
    if (this.closed) return;
    if (!ev.candidate) {
      this.log.debug('gathering complete', { candidates: this.localCandidates.length });
      this.emit('gathering-complete');
      return;
    }
    if (!ev.candidate.candidate) return; // end-of-candidates marker for one m-line
    const c: WireCandidate = {
      candidate: ev.candidate.candidate,
      sdpMid: ev.candidate.sdpMid,
      sdpMLineIndex: ev.candidate.sdpMLineIndex,
      usernameFragment: ev.candidate.usernameFragment,
    };
    this.localCandidates.push(c);
    this.log.debug('local candidate', { n: this.localCandidates.length, signaling: this.pc.signalingState });
    this.emit('candidate', c);
  };

  private onConnectionState = (): void => {
    if (!this.closed) this.emit('connection-state', this.pc.connectionState);
  };

  private onTrack = (ev: RTCTrackEvent): void => {
    if (!this.closed) this.emit('track', ev.track, ev.streams);
  };

  /** Applies a description from the other side; answers offers. */
  async handleDescription(description: WireDescription): Promise<void> {
    if (this.closed) return;
    const collision = description.type === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable');
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) {
      this.log.debug('ignoring colliding offer (impolite side)');
      return;
    }
    // An answer is only meaningful while our offer is outstanding; a duplicate
    // (e.g. re-delivered after a broker reconnect) must not throw.
    if (description.type === 'answer' && this.pc.signalingState !== 'have-local-offer') {
      this.log.debug('dropping answer in state', { state: this.pc.signalingState });
      return;
    }
    try {
      // Our Opus sender follows the fmtp it is given: ask it for FEC and DTX (sdp.ts, issue 14).
      await this.pc.setRemoteDescription({ type: description.type, sdp: withOpusFecDtx(description.sdp) }); // implicit rollback on the polite side
      this.remoteDescriptions++;
      // A new description (an ICE restart's, too) gets a fresh allowance; the queued ones are its own.
      this.remoteCandidates = this.pending.length;
      if (description.type === 'offer') {
        this.beforeAnswer?.();
        this.beforeAnswer = null;
        await this.pc.setLocalDescription();
        const d = this.pc.localDescription;
        if (!this.closed && d) this.emit('description', { type: d.type as 'answer', sdp: d.sdp });
      }
      const queued = this.pending.splice(0);
      for (const c of queued) if (!this.inRemoteDescription(c)) await this.addCandidate(c);
    } catch (e) {
      if (!this.closed) this.emit('error', e);
    }
  }

  async handleCandidate(candidate: WireCandidate): Promise<void> {
    if (this.closed) return;
    // Already in the description we applied (a waiting offerer's retained offer
    // carries its candidates, and it trickles them again for a joiner that may
    // have seen an older copy): nothing to add.
    if (this.inRemoteDescription(candidate)) return;
    if (this.remoteCandidates >= MAX_REMOTE_CANDIDATES) {
      this.droppedCandidates++;
      this.log.warn('signaling message dropped', { reason: 'candidates' });
      return;
    }
    this.remoteCandidates++;
    if (!this.pc.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    await this.addCandidate(candidate);
  }

  private remoteSdpCandidates: { sdp: string; keys: Set<string> } | null = null;

  /**
   * Compared on "foundation component transport priority address port typ
   * type": a trickled candidate also carries attributes (ufrag, network-id)
   * that the same candidate's SDP line leaves out.
   */
  private inRemoteDescription(candidate: WireCandidate): boolean {
    const sdp = this.pc.remoteDescription?.sdp;
    if (!sdp) return false;
    if (this.remoteSdpCandidates?.sdp !== sdp) {
      const keys = new Set<string>();
      for (const line of sdp.split(/\r?\n/)) if (line.startsWith('a=candidate:')) keys.add(candidateKey(line.slice(2)));
      this.remoteSdpCandidates = { sdp, keys };
    }
    return this.remoteSdpCandidates.keys.has(candidateKey(candidate.candidate));
  }

  private async addCandidate(candidate: WireCandidate): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (e) {
      // Candidates for an offer we ignored (impolite side) are expected to fail.
      if (!this.ignoreOffer) this.log.debug('candidate rejected', { error: String(e) });
    }
  }

  restartIce(): void {
    if (this.closed) return;
    this.pc.restartIce();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.removeEventListener('negotiationneeded', this.onNegotiationNeeded);
    this.pc.removeEventListener('icecandidate', this.onIceCandidate);
    this.pc.removeEventListener('connectionstatechange', this.onConnectionState);
    this.pc.removeEventListener('track', this.onTrack);
    this.removeAllListeners();
    this.pc.close();
  }
}

const candidateKey = (candidate: string): string => candidate.trim().split(/\s+/).slice(0, 8).join(' ');
