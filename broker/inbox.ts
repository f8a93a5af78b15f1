/**
 * The broker's policy for inbox connections (protocol/ring.ts): the ones a
 * phone keeps open to hear rings from its saved contacts. Deny by default,
 * like the room policy in hooks.ts:
 *
 * - CONNECT: clientId `inbox.<peerId>`, username `inbox`, the peer's token as
 *   password (peerId = its hash), a clean session and no Will.
 * - SUBSCRIBE: exact inbox topics only (no wildcard can list anyone's rings),
 *   at most MAX_INBOXES_PER_CONNECTION of them.
 * - PUBLISH: to inbox topics only, QoS ≤ 1, never retained, small, and
 *   rate-limited per sender connection and per recipient inbox, so nobody
 *   who learned an inbox id can ring a phone nonstop.
 *
 * The broker learns which opaque ids one connection listens on and publishes
 * to; never a name, and never anything inside the sealed payloads.
 */
import type { PublishPacket } from 'aedes';
import { MAX_INBOX_PAYLOAD_BYTES, MAX_INBOXES_PER_CONNECTION, parseInboxTopic, type InboxId, type PeerId } from '../protocol/index';
import { TokenBucket, type Clock } from './limits';
import type { RefusalReason } from './metrics';

export interface InboxSession {
  kind: 'inbox';
  peer: PeerId;
  inboxes: Set<InboxId>;
  /** Publishes of this connection (the sender). */
  sent: TokenBucket;
}

export interface InboxRates {
  /** A sender's messages: a ring, its cancel, "saved" to a few contacts after a call. */
  perSender: { ratePerSecond: number; burst: number };
  /** Messages into one inbox, from anyone: what one phone can be rung with. */
  perRecipient: { ratePerSecond: number; burst: number };
}

export const DEFAULT_INBOX_RATES: InboxRates = {
  perSender: { ratePerSecond: 0.5, burst: 30 },
  perRecipient: { ratePerSecond: 10 / 60, burst: 10 },
};

/** Recipients remembered at most (each bucket is tiny; full buckets are swept). */
const MAX_TRACKED_RECIPIENTS = 100_000;

export class InboxPolicy {
  private readonly recipients = new Map<InboxId, TokenBucket>();

  constructor(
    private readonly rates: InboxRates = DEFAULT_INBOX_RATES,
    private readonly now: Clock = Date.now,
  ) {}

  session(peer: PeerId): InboxSession {
    const { ratePerSecond, burst } = this.rates.perSender;
    return { kind: 'inbox', peer, inboxes: new Set(), sent: new TokenBucket(ratePerSecond, burst, this.now) };
  }

  /** Null = granted; the filter is then remembered for `forward`. */
  subscribe(session: InboxSession, filter: string): RefusalReason | null {
    const inbox = parseInboxTopic(filter);
    if (!inbox) return 'subscribe-filter';
    if (!session.inboxes.has(inbox) && session.inboxes.size >= MAX_INBOXES_PER_CONNECTION) return 'inbox-count';
    session.inboxes.add(inbox);
    return null;
  }

  unsubscribe(session: InboxSession, filter: string): void {
    const inbox = parseInboxTopic(filter);
    if (inbox) session.inboxes.delete(inbox);
  }

  /** Syntax first, then rates; null = allowed. `session` is null for a room connection. */
  publish(session: InboxSession | null, packet: PublishPacket, payloadBytes: number): RefusalReason | null {
    const inbox = parseInboxTopic(packet.topic);
    if (!inbox) return 'topic';
    if (packet.qos > 1) return 'qos';
    if (packet.retain) return 'retain';
    if (payloadBytes > MAX_INBOX_PAYLOAD_BYTES) return 'payload-size';
    if (!session) return 'not-admitted';
    if (!session.sent.take()) return 'ring-rate';
    if (!this.recipient(inbox).take()) return 'ring-rate';
    return null;
  }

  /** A message relayed for a service worker (inbox-relay.ts): only the recipient's budget applies. */
  relay(inbox: InboxId): boolean {
    return this.recipient(inbox).take();
  }

  /** Only to a connection that subscribed to exactly this inbox (defense in depth: Aedes already matched the filter). */
  forward(session: InboxSession, topic: string): boolean {
    const inbox = parseInboxTopic(topic);
    return inbox !== null && session.inboxes.has(inbox);
  }

  private recipient(inbox: InboxId): TokenBucket {
    let bucket = this.recipients.get(inbox);
    if (!bucket) {
      if (this.recipients.size >= MAX_TRACKED_RECIPIENTS) this.sweep();
      const { ratePerSecond, burst } = this.rates.perRecipient;
      bucket = new TokenBucket(ratePerSecond, burst, this.now);
      this.recipients.set(inbox, bucket);
    }
    return bucket;
  }

  /** Forgets recipients whose bucket refilled: they remember nothing. */
  sweep(): void {
    for (const [inbox, bucket] of this.recipients) if (bucket.full) this.recipients.delete(inbox);
  }

  get trackedRecipients(): number {
    return this.recipients.size;
  }
}

/** Why a CONNECT of an inbox connection is refused, or null. */
export function inboxConnectProblem(username: string | undefined, hasWill: boolean): 'credentials' | 'will' | null {
  if (username !== 'inbox') return 'credentials';
  if (hasWill) return 'will';
  return null;
}
