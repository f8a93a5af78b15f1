/**
 * The verification code, commit-then-reveal (protocol v2, protocol/README.md
 * "Verification code"). Per remote peer, each side:
 *   1. pins the peer's DTLS fingerprint from the first description it applies;
 *   2. sends verify-commit = H(own fingerprint, own nonce);
 *   3. reveals its nonce only once the peer's commitment has arrived and the
 *      peer's fingerprint is pinned;
 *   4. checks the peer's revealed nonce against its commitment and the pinned
 *      fingerprint, then shows the code over both fingerprints and nonces.
 * A later description with another fingerprint from the same peer (a relay
 * stepping in after the code was compared) starts a new round and flags the
 * code as changed, so the two people compare again. Rounds per peer are
 * capped: an attacker can't re-roll the code until it matches.
 */
import { fromBase64Url, toBase64Url, verificationCode, verifyCommitment, VERIFY_NONCE_BYTES, VERIFY_SYMBOLS, type PeerId } from '../../protocol/index';
import { Emitter } from '../lib/emitter';

export type VerificationStatus =
  /** The code is being worked out (or there is no peer yet). */
  | 'pending'
  | 'ready'
  /** The peer's fingerprint changed after a code was shown: compare again. */
  | 'changed'
  /** A reveal didn't match its commitment, or too many rounds: someone may be interfering. */
  | 'failed';

export interface Verification {
  code: string[] | null;
  status: VerificationStatus;
}

export type VerifierEvents = {
  change: (v: Verification) => void;
};

export interface VerifierPort {
  sendCommit(commit: string): void;
  sendReveal(nonce: string): void;
  random(bytes: number): Uint8Array;
}

/** New rounds per peer with unchanged certificates (an honest peer never needs one; a reload brings a new certificate). */
export const MAX_EXTRA_ROUNDS = 3;

export class Verifier extends Emitter<VerifierEvents> {
  private peer: PeerId | null = null;
  private local: string | null = null;
  private pinned: string | null = null;
  private myNonce: string | null = null;
  private myCommit: string | null = null;
  private theirCommit: string | null = null;
  private theirNonce: string | null = null;
  private revealed = false;
  private rounds = 0;
  /** The first code shown for this peer: any later, different code is flagged. */
  private firstCode: string | null = null;
  /** A reveal that came before their commitment or before we pinned their fingerprint. */
  private pendingReveal: string | null = null;
  /** Every step runs in order: they await hashing, and must not interleave. */
  private queue: Promise<void> = Promise.resolve();
  private state: Verification = { code: null, status: 'pending' };

  constructor(
    private readonly port: VerifierPort,
    /** Code length; tests shorten it to measure an attacker's odds. */
    private readonly symbols = VERIFY_SYMBOLS,
  ) {
    super();
  }

  get current(): Verification {
    return this.state;
  }

  private isFailed(): boolean {
    return this.state.status === 'failed';
  }

  /** The one setter. `failed` is final for this peer: nothing a later message says undoes it. */
  private set(next: Verification, force = false): void {
    if (this.isFailed() && !force) return;
    if (next.status === this.state.status && next.code?.join() === this.state.code?.join()) return;
    this.state = next;
    this.emit('change', next);
  }

  private run(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step).catch(() => undefined);
    return this.queue;
  }

  /** A (new) remote peer was bound. Another person means a fresh verification; the same one keeps its pin. */
  bind(peer: PeerId): void {
    if (peer === this.peer) return;
    this.peer = peer;
    this.pinned = this.pendingReveal = this.firstCode = null;
    this.theirCommit = this.theirNonce = this.myNonce = this.myCommit = null;
    this.revealed = false;
    this.rounds = 0;
    this.set({ code: null, status: 'pending' }, true);
  }

  /** Both fingerprints of the connection we just negotiated. */
  fingerprints(local: string, remote: string): Promise<void> {
    return this.run(() => this.onFingerprints(local, remote));
  }

  onCommit(commit: string): Promise<void> {
    return this.run(() => this.commitArrived(commit));
  }

  onReveal(nonce: string): Promise<void> {
    return this.run(() => this.revealArrived(nonce));
  }

  private async onFingerprints(local: string, remote: string): Promise<void> {
    if (!this.peer || this.isFailed()) return;
    // Ours never changes within a page (one certificate per page session); if it did, the peer sees it too.
    const localChanged = this.local !== null && this.local !== local;
    this.local = local;
    if (this.pinned === remote && !localChanged) {
      if (!this.myCommit) await this.startRound();
      else await this.maybeReveal();
      return;
    }
    const changed = this.pinned !== null;
    this.pinned = remote;
    if (changed) this.set({ code: null, status: 'changed' });
    // A new certificate (a reload) always gets its round: it is flagged `changed`, never capped.
    await this.startRound(false);
    await this.takeEarlyReveal();
  }

  /** A reveal kept because it came before its commitment or our pin: check it now that both may be here. */
  private async takeEarlyReveal(): Promise<void> {
    const early = this.pendingReveal;
    this.pendingReveal = null;
    if (early) await this.revealArrived(early);
  }

  private async startRound(reroll = true): Promise<void> {
    if (!this.local) return;
    if (this.myCommit) {
      // A new round: whatever they sent for the last one is void. Only re-rolls with the
      // same certificates count against the cap: that is how an attacker would fish for a match.
      if (reroll && ++this.rounds > MAX_EXTRA_ROUNDS) {
        this.set({ code: null, status: 'failed' });
        return;
      }
      this.theirCommit = this.theirNonce = null;
    }
    this.myNonce = toBase64Url(this.port.random(VERIFY_NONCE_BYTES));
    this.myCommit = await verifyCommitment(this.local, this.myNonce);
    this.revealed = false;
    this.port.sendCommit(this.myCommit);
    await this.maybeReveal();
  }

  private async commitArrived(commit: string): Promise<void> {
    if (!this.peer || this.isFailed() || commit === this.theirCommit) return;
    // A fresh commitment after a finished (or half-finished) round: they started a new one, so do we.
    if (this.theirCommit !== null) await this.startRound();
    if (this.isFailed()) return; // that round was one re-roll too many
    this.theirCommit = commit;
    await this.maybeReveal();
    await this.takeEarlyReveal();
  }

  /** Step 3: only once their commitment is here and their fingerprint is pinned. */
  private async maybeReveal(): Promise<void> {
    if (this.revealed || !this.myNonce || !this.theirCommit || !this.pinned) return;
    this.revealed = true;
    this.port.sendReveal(this.myNonce);
    await this.finish();
  }

  private async revealArrived(nonce: string): Promise<void> {
    if (this.theirNonce || fromBase64Url(nonce)?.length !== VERIFY_NONCE_BYTES) return;
    if (!this.theirCommit || !this.pinned) {
      // Early: kept until their commitment is here and their fingerprint is pinned (never used before both).
      this.pendingReveal = nonce;
      return;
    }
    if ((await verifyCommitment(this.pinned, nonce)) !== this.theirCommit) {
      // The nonce doesn't open the commitment for the fingerprint we negotiated with.
      this.set({ code: null, status: 'failed' });
      return;
    }
    this.theirNonce = nonce;
    await this.finish();
  }

  private async finish(): Promise<void> {
    if (!this.revealed || !this.theirNonce || !this.local || !this.pinned || !this.myNonce) return;
    const code = await verificationCode({ fingerprint: this.local, nonce: this.myNonce }, { fingerprint: this.pinned, nonce: this.theirNonce }, this.symbols);
    this.firstCode ??= code.join(' ');
    // A code that differs from the one first shown stays flagged: the two people must compare again.
    this.set({ code, status: code.join(' ') === this.firstCode ? 'ready' : 'changed' });
  }
}
