/** Outgoing signaling: stamps the envelope (who, which page, which connection) on every message. */
import { PROTOCOL_VERSION, type MediaState, type SignalMessage, type Target, type WireCandidate, type WireDescription } from '../../protocol/index';
import type { Logger } from './negotiator';
import type { SealedMessage, SignalingPort } from './ports';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Body = DistributiveOmit<SignalMessage, 'v' | 'from' | 'session' | 'gen'>;

export class Outbox {
  constructor(
    private readonly signaling: SignalingPort,
    private readonly log: Logger,
    private readonly sessionId: string,
    private readonly gen: () => number,
  ) {}

  private stamp(body: Body): SignalMessage {
    return { v: PROTOCOL_VERSION, from: this.signaling.peerId, session: this.sessionId, gen: this.gen(), ...body } as SignalMessage;
  }

  /** A bye to anyone, sealed for the current connection: a closing page has no time to seal one. */
  private byeReady: { gen: number; sealed: SealedMessage } | null = null;

  /** Seals the bye for the current connection (call after each new connection). */
  prepareBye(): void {
    const gen = this.gen();
    this.byeReady = null;
    this.signaling.seal(this.stamp({ type: 'bye', to: null })).then(
      (sealed) => {
        if (this.gen() === gen) this.byeReady = { gen, sealed };
      },
      () => undefined,
    );
  }

  /** Sends the prepared bye at once (pagehide); nothing if it isn't sealed yet. */
  byeNow(): void {
    if (this.byeReady?.gen === this.gen()) this.signaling.sendSealed(this.byeReady.sealed);
  }

  async send(body: Body): Promise<void> {
    try {
      await this.signaling.send(this.stamp(body));
    } catch (e) {
      // Signaling reconnects by itself, and presence is re-sent when it does.
      this.log.warn('send failed', { type: body.type, error: String(e) });
    }
  }

  presence(offer: WireDescription | null): Promise<void> {
    return this.send({ type: 'presence', offer });
  }

  async media(to: Target | null, state: MediaState): Promise<void> {
    if (to) await this.send({ type: 'media', to, state });
  }

  /**
   * Their offer collided with ours. If we are impolite, ours wins and they are
   * rolling back to answer it, but their copy of our retained offer may be older,
   * or ignored because they are bound to an older connection of ours: send it directly.
   */
  async pendingOffer(to: Target | null, pending: WireDescription | null, polite: boolean): Promise<void> {
    if (pending && to && !polite) await this.send({ type: 'description', to, description: pending });
  }

  /** A peer that arrived mid-gathering has only part of our candidates in the offer it saw. */
  async candidates(to: Target | null, list: readonly WireCandidate[]): Promise<void> {
    if (to) for (const candidate of list) await this.send({ type: 'candidate', to, candidate });
  }
}
