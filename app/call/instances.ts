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

/** What to do when a (new) remote connection arrives: see `arrival()`. */
export type Arrival = 'answer-on-fresh' | 'await-their-offer' | 'new-connection' | 'apply-offer' | 'flush-candidates';

/**
 * The binding rule for a remote connection that arrives (its presence, or a
 * description from a connection we weren't bound to), as a pure function.
 * - `used`: our connection already negotiated with someone (or is bound);
 * - `firstOfferOurs`: our own first offer is being made or awaits an answer.
 *
 * Both Chromium workarounds below are about one JSEP case: a polite rollback
 * of a local offer whose ICE gathering is still running (JSEP, RFC 8829:
 * a remote offer in have-local-offer rolls the local one back). Chromium 156 then answered without gathering candidates, and
 * the call hung in `connecting` until the connect timeout's rebuild (seen in
 * tests/e2e/call.spec.ts, "both tap Join at the same moment"). A fresh
 * RTCPeerConnection has no offer to roll back, so it gathers normally.
 */
export function arrival(a: { used: boolean; offer: boolean; firstOfferOurs: boolean; polite: boolean; connection: boolean }): Arrival {
  // Both of us were waiting with offers and theirs wins: answer on a fresh connection, not a rollback.
  if (a.offer && a.firstOfferOurs && a.polite) return 'answer-on-fresh';
  // They reloaded (or rebuilt): the arriving side always offers, so we wait for it instead of colliding.
  if (a.used && !a.offer) return 'await-their-offer';
  if (a.used || !a.connection) return 'new-connection';
  // Both of us were waiting with offers and ours wins (or theirs arrived first): perfect negotiation picks one.
  return a.offer ? 'apply-offer' : 'flush-candidates';
}

