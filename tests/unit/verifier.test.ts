/**
 * The verification code against an active attacker who holds the link (so can
 * read and forge signaling) and sits between the two people. Codes are cut to
 * one symbol (6 bits) so an attacker's odds can be measured in a few thousand
 * runs: chance is 1/64. The old code (fingerprints only, no commitment) loses
 * to the same attacker almost every time, which is what this test would catch
 * if the commitment were dropped.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toBase64Url, verificationCode, VERIFICATION_EMOJI, type PeerId } from '../../protocol/index';
import { MAX_EXTRA_ROUNDS, Verifier, type Verification } from '../../app/call/verifier';

const fp = () => [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
const A = 'AAAAAAAAAAAA' as PeerId;
const B = 'BBBBBBBBBBBB' as PeerId;

type Msg = { kind: 'commit'; value: string } | { kind: 'reveal'; value: string };

/** A verifier whose messages go into an outbox the test delivers (or tampers with), and whose nonces the test may choose. */
function side(symbols = 4) {
  const outbox: Msg[] = [];
  const nonces: Uint8Array[] = [];
  const v = new Verifier(
    {
      sendCommit: (value) => void outbox.push({ kind: 'commit', value }),
      sendReveal: (value) => void outbox.push({ kind: 'reveal', value }),
      random: (n) => nonces.shift() ?? new Uint8Array(randomBytes(n)),
    },
    symbols,
  );
  const deliver = async (m: Msg) => (m.kind === 'commit' ? v.onCommit(m.value) : v.onReveal(m.value));
  return { v, outbox, nonces, deliver };
}

/** Delivers everything both outboxes hold, back and forth, until both are empty. */
async function exchange(x: ReturnType<typeof side>, y: ReturnType<typeof side>): Promise<void> {
  while (x.outbox.length || y.outbox.length) {
    for (const m of x.outbox.splice(0)) await y.deliver(m);
    for (const m of y.outbox.splice(0)) await x.deliver(m);
  }
}

const code = (v: Verification) => v.code?.join('') ?? null;

/** Alice and Bob, each bound to the other, with a certificate each; nothing sent yet. */
function pair() {
  const [a, b] = [side(), side()];
  const [fa, fb] = [fp(), fp()];
  a.v.bind(B);
  b.v.bind(A);
  return { a, b, fa, fb };
}

describe('verification code, honest calls', () => {
  it('both screens show the same code; a repeat of the same fingerprints (an honest rebuild) changes nothing', async () => {
    const { a, b, fa, fb } = pair();
    await Promise.all([a.v.fingerprints(fa, fb), b.v.fingerprints(fb, fa)]);
    await exchange(a, b);
    expect(a.v.current.status).toBe('ready');
    expect(code(a.v.current)).toBe(code(b.v.current));
    expect(a.v.current.code).toHaveLength(4);
    const before = code(a.v.current);
    await Promise.all([a.v.fingerprints(fa, fb), b.v.fingerprints(fb, fa)]);
    expect(a.outbox).toEqual([]); // no new round
    expect(code(a.v.current)).toBe(before);
  });

  it('a reveal that arrives before the description it belongs to is kept until the fingerprint is pinned', async () => {
    const { a, b, fa, fb } = pair();
    await b.v.fingerprints(fb, fa);
    await a.deliver(b.outbox.shift()!); // b's commit reaches a before a applied b's description
    await a.v.fingerprints(fa, fb); // a commits, and reveals (b's commitment is here)
    await exchange(a, b);
    expect(code(a.v.current)).not.toBeNull();
    expect(code(a.v.current)).toBe(code(b.v.current));
  });

  it('a reveal that overtook its commitment (reordered on the way) is kept and checked once the commitment is here', async () => {
    const { a, b, fa, fb } = pair();
    await b.v.fingerprints(fb, fa);
    await a.deliver(b.outbox.shift()!);
    await a.v.fingerprints(fa, fb); // a: commit, then reveal (it has b's commitment)
    const [commit, reveal] = a.outbox.splice(0);
    await b.deliver(reveal!); // reversed
    await b.deliver(commit!);
    await exchange(a, b);
    expect(b.v.current.status).toBe('ready');
    expect(code(b.v.current)).toBe(code(a.v.current));
  });

  it('a peer whose certificate changed mid-call (it reloaded, or someone stepped in): a new round, and the code is flagged', async () => {
    const { a, b, fa, fb } = pair();
    const fb2 = fp();
    await Promise.all([a.v.fingerprints(fa, fb), b.v.fingerprints(fb, fa)]);
    await exchange(a, b);
    const first = code(a.v.current);
    await a.v.fingerprints(fa, fb2);
    expect(a.v.current).toEqual({ code: null, status: 'changed' });
    await b.v.fingerprints(fb2, fa);
    await exchange(a, b);
    expect(a.v.current.status).toBe('changed');
    expect(code(a.v.current)).not.toBe(first);
    // Five more reloads: each flagged, none mistaken for an attack (the cap is for same-certificate re-rolls).
    for (let i = 0; i < 5; i++) {
      const next = fp();
      await Promise.all([a.v.fingerprints(fa, next), b.v.fingerprints(next, fa)]);
      await exchange(a, b);
    }
    expect([a.v.current.status, b.v.current.status]).toEqual(['changed', 'changed']);
    expect(code(a.v.current)).toBe(code(b.v.current));
  });
});

describe('verification code, an attacker in the middle', () => {
  it('a relayed fingerprint swap without matching nonces is caught: the reveal does not open the commitment', async () => {
    const { a, b, fa, fb } = pair();
    const fm = fp();
    // Bob negotiated with the attacker's certificate, but Alice's own commit and reveal are relayed unchanged.
    await Promise.all([a.v.fingerprints(fa, fb), b.v.fingerprints(fb, fm)]);
    await exchange(a, b);
    expect(b.v.current).toEqual({ code: null, status: 'failed' });
    // Final: an honest-looking round afterwards doesn't turn it back into a code.
    await b.v.fingerprints(fb, fa);
    await exchange(a, b);
    expect(b.v.current.status).toBe('failed');
  });

  it('an adaptive attacker does no better than chance; against the old code it wins almost every time', async () => {
    const symbols = 1; // 6 bits: chance is 1/64
    const runs = 800;
    const grind = 128; // against the old code: 1 - (63/64)^128 = 87 % expected wins // candidates the attacker may try per run
    let wins = 0;
    let oldWins = 0;
    for (let run = 0; run < runs; run++) {
      const [fa, fb, fm1, fm2] = [fp(), fp(), fp(), fp()];
      // Old scheme: the code covers the fingerprints only, so the attacker grinds
      // certificates offline until Alice's and Bob's screens agree.
      const old = async (x: string, y: string) => (await verificationCode({ fingerprint: x, nonce: '' }, { fingerprint: y, nonce: '' }, symbols)).join('');
      const bobOld = await old(fm2, fb);
      for (let i = 0; i < grind; i++) if ((await old(fa, fp())) === bobOld) {
        oldWins++;
        break;
      }

      // New scheme. The attacker finishes Bob's side first, so it knows Bob's code...
      const [a, b, ma, mb] = [side(symbols), side(symbols), side(symbols), side(symbols)];
      a.v.bind(B);
      ma.v.bind(A);
      b.v.bind(A);
      mb.v.bind(B);
      await Promise.all([b.v.fingerprints(fb, fm2), mb.v.fingerprints(fm2, fb)]);
      await exchange(b, mb);
      const bobCode = code(b.v.current)!;
      // ...then sees Alice's commitment and her fingerprint, and grinds its own nonce for
      // her side against its best guess of her nonce, before it must commit to her.
      await a.v.fingerprints(fa, fm1);
      const guess = toBase64Url(new Uint8Array(randomBytes(32)));
      let chosen: Uint8Array | undefined;
      for (let i = 0; i < grind && !chosen; i++) {
        const n = new Uint8Array(randomBytes(32));
        const c = (await verificationCode({ fingerprint: fm1, nonce: toBase64Url(n) }, { fingerprint: fa, nonce: guess }, symbols)).join('');
        if (c === bobCode) chosen = n;
      }
      if (chosen) ma.nonces.push(chosen);
      await ma.v.fingerprints(fm1, fa);
      await exchange(a, ma);
      if (a.v.current.status === 'ready' && code(a.v.current) === bobCode) wins++;
    }
    const chance = runs / VERIFICATION_EMOJI.length ** symbols;
    console.log(`adaptive attacker: ${wins}/${runs} wins with commit-then-reveal (chance ${chance.toFixed(0)}); ${oldWins}/${runs} against fingerprints-only codes`);
    expect(oldWins / runs).toBeGreaterThan(0.75);
    // Binomial(800, 1/64): mean 12.5, sd 3.5. Three times chance is far outside what luck gives.
    expect(wins).toBeLessThan(chance * 3);
  }, 120_000);

  it('re-rolling the code with forged commitments is visible and capped: never a silent match', async () => {
    const symbols = 1;
    let silentMatches = 0;
    let flagged = 0;
    for (let run = 0; run < 200; run++) {
      const [fa, fm] = [fp(), fp()];
      const [a, ma] = [side(symbols), side(symbols)];
      a.v.bind(B);
      ma.v.bind(A);
      await Promise.all([a.v.fingerprints(fa, fm), ma.v.fingerprints(fm, fa)]);
      await exchange(a, ma);
      const first = code(a.v.current);
      const target = VERIFICATION_EMOJI[run % 64];
      // The attacker keeps forcing new rounds (a fresh persona, so a fresh commitment) hoping to land on `target`.
      for (let i = 0; i < MAX_EXTRA_ROUNDS + 2 && a.v.current.code?.[0] !== target; i++) {
        ma.v.bind(B);
        ma.v.bind(A);
        await ma.v.fingerprints(fm, fa);
        await exchange(a, ma);
      }
      // The invariant: a code shown as `ready` is the first one shown. Anything else is flagged or failed.
      if (a.v.current.status === 'ready') expect(code(a.v.current)).toBe(first);
      if (a.v.current.code?.[0] === target && a.v.current.status === 'ready') silentMatches++;
      if (a.v.current.code?.[0] === target && a.v.current.status !== 'ready') flagged++;
    }
    console.log(`re-rolling attacker: ${silentMatches}/200 silent matches (chance ~3), ${flagged} matches that were flagged changed`);
    // A re-rolled code is flagged `changed`, and rounds run out (`failed`): it can't quietly match.
    // Only a first code that happened to be the target matches silently: chance, 200/64.
    expect(silentMatches).toBeLessThan((200 / 64) * 3 + 2);
  });
});

describe('verification words', () => {
  it('one distinct word per symbol, in the same order', async () => {
    const { VERIFICATION_EMOJI, VERIFICATION_WORDS, verificationWord } = await import('../../protocol/verification');
    expect(VERIFICATION_WORDS).toHaveLength(VERIFICATION_EMOJI.length);
    expect(new Set(VERIFICATION_WORDS).size).toBe(64);
    expect(verificationWord('🐶')).toBe('dog');
    expect(verificationWord('📌')).toBe('pin');
    expect(verificationWord('x')).toBe('');
  });
});
