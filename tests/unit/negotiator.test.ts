/**
 * Perfect negotiation with two fake RTCPeerConnections wired back to back:
 * the signaling-state rules of JSEP (offer/answer, implicit rollback on a
 * remote offer in have-local-offer) and nothing else. Enough to show that
 * glare resolves the same way every time and that remote candidates are
 * capped, without a browser.
 */
import { describe, expect, it } from 'vitest';
import type { WireCandidate, WireDescription } from '../../protocol/index';
import { MAX_REMOTE_CANDIDATES, Negotiator, type Logger } from '../../app/call/negotiator';

type Desc = { type: 'offer' | 'answer'; sdp: string };

class FakePeerConnection extends EventTarget {
  signalingState: RTCSignalingState = 'stable';
  localDescription: Desc | null = null;
  remoteDescription: Desc | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  readonly added: WireCandidate[] = [];
  private n = 0;

  constructor(readonly name: string) {
    super();
  }

  async setLocalDescription(): Promise<void> {
    await Promise.resolve();
    if (this.signalingState === 'stable') {
      this.localDescription = { type: 'offer', sdp: `${this.name}-offer-${++this.n}` };
      this.signalingState = 'have-local-offer';
    } else if (this.signalingState === 'have-remote-offer') {
      this.localDescription = { type: 'answer', sdp: `${this.name}-answer-${++this.n}` };
      this.signalingState = 'stable';
    } else throw new DOMException(`setLocalDescription in ${this.signalingState}`, 'InvalidStateError');
  }

  async setRemoteDescription(d: Desc): Promise<void> {
    await Promise.resolve();
    if (d.type === 'offer') {
      // JSEP: a remote offer while we have a local one rolls ours back first.
      if (this.signalingState === 'have-local-offer') this.localDescription = null;
      this.signalingState = 'have-remote-offer';
    } else {
      if (this.signalingState !== 'have-local-offer') throw new DOMException('answer in wrong state', 'InvalidStateError');
      this.signalingState = 'stable';
    }
    this.remoteDescription = d;
  }

  async addIceCandidate(c: WireCandidate): Promise<void> {
    this.added.push(c);
  }

  /** What a track added or restartIce() does: ask for negotiation. */
  needNegotiation(): void {
    this.dispatchEvent(new Event('negotiationneeded'));
  }

  restartIce(): void {
    this.needNegotiation();
  }

  close(): void {
    this.signalingState = 'closed';
  }
}

const quiet: Logger & { warnings: string[] } = {
  warnings: [],
  debug: () => undefined,
  warn(msg, data) {
    this.warnings.push(`${msg} ${JSON.stringify(data)}`);
  },
};

/** Two negotiators whose descriptions are delivered to each other asynchronously, in order. */
function pair() {
  const pcA = new FakePeerConnection('a');
  const pcB = new FakePeerConnection('b');
  const a = new Negotiator(pcA as unknown as RTCPeerConnection, false, quiet); // impolite
  const b = new Negotiator(pcB as unknown as RTCPeerConnection, true, quiet); // polite
  const inFlight: Array<Promise<void>> = [];
  const wire = (from: Negotiator, to: Negotiator) =>
    from.on('description', (d: WireDescription) => void inFlight.push(new Promise<void>((r) => setTimeout(r, 1)).then(() => to.handleDescription(d))));
  wire(a, b);
  wire(b, a);
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      await Promise.all(inFlight.splice(0));
      await new Promise((r) => setTimeout(r, 2));
      if (inFlight.length === 0) return;
    }
  };
  return { pcA, pcB, a, b, settle };
}

describe('perfect negotiation', () => {
  it('a plain offer from either side ends stable on both, with each other\u2019s descriptions', async () => {
    for (const first of ['a', 'b'] as const) {
      const { pcA, pcB, settle } = pair();
      (first === 'a' ? pcA : pcB).needNegotiation();
      await settle();
      expect([pcA.signalingState, pcB.signalingState]).toEqual(['stable', 'stable']);
      const [offerer, answerer, other] = first === 'a' ? [pcA, pcB, 'b'] : [pcB, pcA, 'a'];
      expect(answerer.remoteDescription?.sdp).toMatch(new RegExp(`^${first}-offer-`));
      expect(offerer.remoteDescription?.sdp).toMatch(new RegExp(`^${other}-answer-`));
    }
  });

  it('glare: both offer at once; the impolite offer wins, the polite side rolls back and answers', async () => {
    for (let run = 0; run < 20; run++) {
      const { pcA, pcB, a, settle } = pair();
      pcA.needNegotiation();
      pcB.needNegotiation();
      await settle();
      expect([pcA.signalingState, pcB.signalingState]).toEqual(['stable', 'stable']);
      // B (polite) applied A's offer and answered it; A ignored B's colliding offer.
      expect(pcB.remoteDescription?.sdp).toMatch(/^a-offer-/);
      expect(pcA.remoteDescription?.sdp).toMatch(/^b-answer-/);
      expect(a.remoteDescriptions).toBe(1);
    }
  });

  it('an ICE restart mid-call renegotiates without glare', async () => {
    const { pcA, pcB, settle } = pair();
    pcA.needNegotiation();
    await settle();
    pcB.restartIce();
    await settle();
    expect([pcA.signalingState, pcB.signalingState]).toEqual(['stable', 'stable']);
    expect(pcA.remoteDescription?.sdp).toMatch(/^b-offer-/);
  });
});

describe('remote candidates', () => {
  const candidate = (i: number): WireCandidate => ({ candidate: `candidate:${i} 1 udp 1 192.0.2.1 ${1000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null });

  it(`takes at most ${MAX_REMOTE_CANDIDATES} per remote description, counts the rest, and gives an ICE restart a fresh allowance`, async () => {
    const { pcA, pcB, a, settle } = pair();
    quiet.warnings.length = 0;
    // Early candidates (before any description) are queued within the same allowance.
    for (let i = 0; i < 10; i++) await a.handleCandidate(candidate(i));
    pcB.needNegotiation();
    await settle();
    expect(pcA.added).toHaveLength(10);
    for (let i = 10; i < 80; i++) await a.handleCandidate(candidate(i));
    expect(pcA.added).toHaveLength(MAX_REMOTE_CANDIDATES);
    expect(a.droppedCandidates).toBe(80 - MAX_REMOTE_CANDIDATES);
    expect(quiet.warnings.filter((w) => w.includes('candidates'))).toHaveLength(80 - MAX_REMOTE_CANDIDATES);

    pcB.restartIce();
    await settle();
    await a.handleCandidate(candidate(100));
    expect(pcA.added).toHaveLength(MAX_REMOTE_CANDIDATES + 1);
  });

  it('skips a trickled candidate that the applied description already carries', async () => {
    const { pcA, a } = pair();
    const c = candidate(7);
    // One copy overtakes the description (queued), one comes after it.
    await a.handleCandidate(c);
    // The SDP line lacks the attributes a trickled candidate carries (as Chromium's do).
    await a.handleDescription({ type: 'offer', sdp: `v=0\r\na=${c.candidate} generation 0\r\n` });
    c.candidate += ' generation 0 ufrag abcd network-id 1';
    await a.handleCandidate(c);
    await a.handleCandidate(candidate(8));
    expect(pcA.added.map((x) => x.candidate)).toEqual([candidate(8).candidate]);
  });
});
