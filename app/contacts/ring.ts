/**
 * One outgoing ring, from "Call <name>" until they join, say no, or the
 * time runs out. The caller's call is already waiting in its room with a
 * retained offer, so an Answer connects as fast as a link call.
 */
import type { RingId } from '../../protocol/index';
import type { Clock, RingHandle, RingStatus } from '../call/ports';
import { Emitter } from '../lib/emitter';

export type { RingStatus } from '../call/ports';

export class OutgoingRing extends Emitter<{ status: (status: RingStatus) => void }> implements RingHandle {
  private s: RingStatus = 'ringing';
  private readonly timer: unknown;

  constructor(
    readonly id: RingId,
    readonly name: string,
    private readonly clock: Clock,
    timeoutMs: number,
    /** Tells the callee to stop ringing (`missed` = nobody answered in time). */
    private readonly sendCancel: (missed: boolean) => void,
  ) {
    super();
    this.timer = clock.setTimeout(() => {
      if (this.set('no-answer')) this.sendCancel(true);
    }, timeoutMs);
  }

  get status(): RingStatus {
    return this.s;
  }

  /** They joined the call. */
  answered(): void {
    this.set('answered');
  }

  declined(busy: boolean): void {
    this.set(busy ? 'busy' : 'declined');
  }

  /** The caller hung up first. */
  cancel(): void {
    if (this.set('cancelled')) this.sendCancel(false);
  }

  /** Only a ringing ring changes; returns whether this call changed it. */
  private set(next: RingStatus): boolean {
    if (this.s !== 'ringing') return false;
    this.s = next;
    this.clock.clearTimeout(this.timer);
    this.emit('status', next);
    return true;
  }
}
