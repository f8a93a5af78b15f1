/**
 * Aedes has no maximum packet size (aedes#831): its parser buffers whatever
 * Remaining Length a client declares. This guard reads only the MQTT fixed
 * header of each packet as bytes arrive, across WebSocket messages (mqtt.js
 * sends one packet in several), and says "close" as soon as a packet declares
 * more than the cap, before the body is ever buffered.
 *
 * Fixed header [MQTT-2.2]: one byte of type and flags, then the Remaining
 * Length in 1-4 bytes of 7 bits each, low group first, high bit = "more".
 *
 * It also caps how many WebSocket messages one packet may span. Each message
 * is a separate Buffer all the way into mqtt-packet's buffer list, so a packet
 * under the byte cap, trickled one byte per message, would otherwise hold
 * tens of thousands of small allocations (several MB) per socket. Browsers
 * send a packet in one message and mqtt.js in Node in a handful.
 *
 * It counts every packet, acks included (issue 11, "ack flood"): one
 * WebSocket message can carry 16,384 PUBRELs, each of which Aedes answers,
 * and before they were counted one client stalled the event loop for
 * everyone. And it refuses, from the header alone, a SUBSCRIBE longer than
 * the protocol's two filters can be ("filter flood"), before Aedes parses
 * thousands of filters and calls a hook for each.
 */
export type GuardVerdict = 'oversize' | 'malformed' | 'fragmented' | 'subscribe-size';

type State = 'type' | 'length' | 'body';

/** PUBACK (4) to PUBCOMP (7) [MQTT-2.2.1]. */
const ACK_TYPES_FROM = 4;
const ACK_TYPES_TO = 7;

/** SUBSCRIBE [MQTT-2.2.1]. */
const SUBSCRIBE_TYPE = 8;

/** Remaining Length takes at most 4 bytes [MQTT-2.2.3]. */
const MAX_LENGTH_BYTES = 4;

export class MqttPacketGuard {
  private state: State = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;
  /** WebSocket messages the current packet has spanned so far. */
  private spans = 0;
  private started = 0;
  private acked = 0;
  private type = 0;
  private verdict: GuardVerdict | null = null;

  constructor(
    private readonly maxPacketBytes: number,
    private readonly maxMessagesPerPacket: number = Number.POSITIVE_INFINITY,
    /** Largest SUBSCRIBE Remaining Length accepted (see `maxSubscribeBytes`). */
    private readonly maxSubscribeBytes: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Packets the client started so far, not counting PUBACK/PUBREC/PUBREL/PUBCOMP (`acks`). */
  get packets(): number {
    return this.started;
  }

  /**
   * PUBACK/PUBREC/PUBREL/PUBCOMP seen so far. Counted apart from `packets`
   * because an honest client's acks answer the broker's deliveries (its peer's
   * messages and its own echoes), so their budget follows the publishers'.
   */
  get acks(): number {
    return this.acked;
  }

  /** Feeds the next WebSocket message from the client. Null = keep going; once it says close, it keeps saying so. */
  push(chunk: Uint8Array): GuardVerdict | null {
    if (this.verdict === null && this.state !== 'type' && chunk.length > 0) {
      this.spans += 1;
      if (this.spans > this.maxMessagesPerPacket) return this.fail('fragmented');
    }
    let i = 0;
    while (this.verdict === null && i < chunk.length) {
      switch (this.state) {
        case 'type': {
          const type = chunk[i]! >> 4;
          // Types 0 and 15 are reserved in 3.1.1 [MQTT-2.2.1]; nothing valid starts with them.
          if (type === 0 || type === 15) return this.fail('malformed');
          i += 1;
          if (type < ACK_TYPES_FROM || type > ACK_TYPES_TO) this.started += 1;
          else this.acked += 1;
          this.type = type;
          this.spans = 1;
          this.state = 'length';
          this.length = 0;
          this.multiplier = 1;
          this.lengthBytes = 0;
          break;
        }
        case 'length': {
          const byte = chunk[i]!;
          i += 1;
          this.lengthBytes += 1;
          this.length += (byte & 0x7f) * this.multiplier;
          // What is decoded so far is a lower bound, so an oversized packet is
          // refused at its first telling byte, not after the whole header.
          if (1 + this.lengthBytes + this.length > this.maxPacketBytes) return this.fail('oversize');
          if (this.type === SUBSCRIBE_TYPE && this.length > this.maxSubscribeBytes) return this.fail('subscribe-size');
          if (byte & 0x80) {
            if (this.lengthBytes === MAX_LENGTH_BYTES) return this.fail('malformed');
            this.multiplier *= 128;
          } else {
            this.bodyLeft = this.length;
            this.state = this.bodyLeft === 0 ? 'type' : 'body';
          }
          break;
        }
        case 'body': {
          const take = Math.min(this.bodyLeft, chunk.length - i);
          i += take;
          this.bodyLeft -= take;
          if (this.bodyLeft === 0) this.state = 'type';
          break;
        }
        default: {
          const never: never = this.state;
          throw new Error(`unknown guard state ${String(never)}`);
        }
      }
    }
    return this.verdict;
  }

  private fail(verdict: GuardVerdict): GuardVerdict {
    this.verdict = verdict;
    return verdict;
  }
}
