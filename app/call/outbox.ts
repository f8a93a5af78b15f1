/** Outgoing signaling: stamps the envelope (who, which page, which connection) on every message. */
import { PROTOCOL_VERSION, type MediaState, type SignalMessage, type Target, type WireDescription } from '../../protocol/index';
import type { Logger } from './negotiator';
import type { SignalingPort } from './ports';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Body = DistributiveOmit<SignalMessage, 'v' | 'from' | 'session' | 'gen'>;

export class Outbox {
  constructor(
    private readonly signaling: SignalingPort,
    private readonly log: Logger,
    private readonly sessionId: string,
    private readonly gen: () => number,
  ) {}

  async send(body: Body): Promise<void> {
    const envelope = { v: PROTOCOL_VERSION, from: this.signaling.peerId, session: this.sessionId, gen: this.gen() } as const;
    try {
      await this.signaling.send({ ...envelope, ...body } as SignalMessage);
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
}
