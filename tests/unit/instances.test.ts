import { describe, expect, it } from 'vitest';
import { arrival, addressedToMe, CandidateParking, relation, type RemoteInstance } from '../../app/call/instances';
import type { PeerId } from '../../protocol/index';

const A = 'AAAAAAAAAAAA' as PeerId;
const B = 'BBBBBBBBBBBB' as PeerId;
const bound: RemoteInstance = { peer: A, session: 's1', gen: 2 };
const cand = (n: number) => ({ candidate: `candidate:${n} 1 udp 1 127.0.0.1 ${5000 + n} typ host`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null });

describe('staleness and addressing', () => {
  it('relates a sender to the connection we are bound to', () => {
    expect(relation(null, { from: A, session: 's1', gen: 1 })).toBe('unbound');
    expect(relation(bound, { from: A, session: 's1', gen: 2 })).toBe('same');
    expect(relation(bound, { from: A, session: 's1', gen: 1 })).toBe('older'); // replayed from before a rebuild: drop
    expect(relation(bound, { from: A, session: 's1', gen: 3 })).toBe('newer'); // they rebuilt their connection
    expect(relation(bound, { from: A, session: 's2', gen: 1 })).toBe('other-session'); // they reloaded
    expect(relation(bound, { from: B, session: 's1', gen: 2 })).toBe('other-peer');
  });

  it('an answer must name our exact connection; an offer only our page session', () => {
    const mine = { session: 'me', gen: 3 };
    expect(addressedToMe({ session: 'me', gen: 3 }, mine, 'answer')).toBe(true);
    expect(addressedToMe({ session: 'me', gen: 2 }, mine, 'answer')).toBe(false); // answers an offer we abandoned
    expect(addressedToMe({ session: 'me', gen: 2 }, mine, 'offer')).toBe(true);
    expect(addressedToMe({ session: 'old-page', gen: 3 }, mine, 'offer')).toBe(false); // meant for the page before a reload
  });

  it('parks early candidates per sender, bounded, and hands over only the bound one', () => {
    const p = new CandidateParking(3, 2);
    for (let i = 0; i < 5; i++) p.park({ from: A, session: 's1', gen: 2 }, cand(i));
    p.park({ from: A, session: 's9', gen: 1 }, cand(9));
    p.park({ from: A, session: 's8', gen: 1 }, cand(8)); // a third instance: dropped
    expect(p.take(bound).map((c) => c.candidate)).toEqual([cand(0), cand(1), cand(2)].map((c) => c.candidate));
    expect(p.take({ peer: A, session: 's9', gen: 1 })).toEqual([]); // forgotten after a take
  });
});

describe('arrival: what a (new) remote connection makes us do', () => {
  const base = { used: false, offer: false, firstOfferOurs: false, polite: false, connection: true };
  it('glare at the start: the polite side answers on a fresh connection instead of rolling back', () => {
    expect(arrival({ ...base, offer: true, firstOfferOurs: true, polite: true })).toBe('answer-on-fresh');
    expect(arrival({ ...base, offer: true, firstOfferOurs: true, polite: false })).toBe('apply-offer');
  });
  it('a peer that reloaded: wait for its offer on a used connection; otherwise build or reuse', () => {
    expect(arrival({ ...base, used: true })).toBe('await-their-offer');
    expect(arrival({ ...base, used: true, offer: true })).toBe('new-connection');
    expect(arrival({ ...base, connection: false })).toBe('new-connection');
    expect(arrival(base)).toBe('flush-candidates');
  });
});
