/**
 * Which remote connection a message belongs to, as pure functions.
 *
 * A remote "instance" is (peer id, page session, connection generation): a
 * reload makes a new session, a rebuilt RTCPeerConnection a new generation.
 * Anything from an older generation of the instance we are bound to is
 * stale (e.g. replayed after a broker reconnect) and is dropped.
 */
import type { PeerId, Target, WireCandidate } from '../../protocol/index';

export interface RemoteInstance {
  peer: PeerId;
  session: string;
  gen: number;
}

export interface Sender {
  from: PeerId;
  session: string;
  gen: number;
}

export type Relation = 'unbound' | 'same' | 'older' | 'newer' | 'other-session' | 'other-peer';

export function relation(bound: RemoteInstance | null, m: Sender): Relation {
  if (!bound) return 'unbound';
  if (m.from !== bound.peer) return 'other-peer';
  if (m.session !== bound.session) return 'other-session';
  if (m.gen === bound.gen) return 'same';
  return m.gen < bound.gen ? 'older' : 'newer';
}

export const instanceOf = (m: Sender): RemoteInstance => ({ peer: m.from, session: m.session, gen: m.gen });

/**
 * Is a description addressed to our current connection? An answer must name
 * our exact generation (it answers one particular offer). An offer only needs
 * our session: it may have been sent before the other side heard that we
 * rebuilt our connection, and it starts a fresh negotiation anyway.
 */
export function addressedToMe(to: Target, mine: { session: string; gen: number }, kind: 'offer' | 'answer'): boolean {
  if (to.session !== mine.session) return false;
  return kind === 'offer' || to.gen === mine.gen;
}

/** Candidates that overtook the description they belong to, kept per sender instance (bounded). */
export class CandidateParking {
  private parked = new Map<string, WireCandidate[]>();

  constructor(
    private readonly perInstance = 50,
    private readonly instances = 4,
  ) {}

  private key = (i: RemoteInstance | Sender) => ('from' in i ? `${i.from}/${i.session}/${i.gen}` : `${i.peer}/${i.session}/${i.gen}`);

  park(m: Sender, c: WireCandidate): void {
    const key = this.key(m);
    const list = this.parked.get(key);
    if (list) {
      if (list.length < this.perInstance) list.push(c);
    } else if (this.parked.size < this.instances) {
      this.parked.set(key, [c]);
    }
  }

  /** Takes the candidates of `instance` and forgets every other instance. */
  take(instance: RemoteInstance): WireCandidate[] {
    const list = this.parked.get(this.key(instance)) ?? [];
    this.parked.clear();
    return list;
  }
}
