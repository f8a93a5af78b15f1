/**
 * The call's part in saved contacts (app/contacts): a link call offers the
 * other person a fresh inbox once connected, and a call to a saved contact
 * rings once its offer waits in the room. Kept out of controller.ts, which
 * only tells it what happened.
 */
import type { MessageOf, PeerId, RoomId } from '../../protocol/index';
import type { CallPorts, RingHandle, RingStatus } from './ports';

export interface ContactLinkDeps {
  ports: Pick<CallPorts, 'contacts' | 'ring' | 'log'>;
  /** Sends a message to the bound peer (session.sendToPeer). */
  send(body: { type: 'contact'; inbox: string; key: string }): void;
  /** The view's contact fields changed. */
  show(patch: { contactId?: string; ring?: RingStatus; ringName?: string }): void;
  /** They said no, or nobody answered: end our side of the call. */
  refused(): void;
}

export class ContactLink {
  private ringing: RingHandle | null = null;
  private offStatus: (() => void) | null = null;
  private peer: PeerId | null = null;
  private closed = false;

  constructor(
    private readonly room: RoomId,
    private readonly deps: ContactLinkDeps,
  ) {}

  /** The session bound to this peer. */
  bound(peer: PeerId): void {
    this.peer = peer;
  }

  /** Our offer waits in the room: ring the contact (once). */
  waiting(): void {
    const ring = this.deps.ports.ring;
    if (!ring || this.ringing || this.closed) return;
    const handle = ring.start();
    this.ringing = handle;
    this.deps.show({ ring: handle.status, ringName: ring.name });
    this.offStatus = handle.on('status', (status) => {
      this.deps.show({ ring: status });
      if (status === 'declined' || status === 'busy' || status === 'no-answer') this.deps.refused();
    });
  }

  /** They arrived (connecting), or we are connected (again: their page may have reloaded). */
  arrived(connected: boolean): void {
    this.ringing?.answered();
    if (connected) void this.offer();
  }

  /** Their inbox for us. */
  received(m: MessageOf<'contact'>): void {
    void this.deps.ports.contacts?.offered(`${this.room}.${m.from}`, m.inbox, m.key).catch((err: unknown) => this.deps.ports.log.warn('contact offer not stored', { err: String(err) }));
  }

  /** We hung up: a ring still ringing is cancelled. */
  hangup(): void {
    this.ringing?.cancel();
  }

  close(): void {
    this.closed = true;
    this.offStatus?.();
  }

  private async offer(): Promise<void> {
    const contacts = this.deps.ports.contacts;
    const peer = this.peer;
    if (!contacts || !peer) return;
    try {
      const { inbox, key } = await contacts.offer(`${this.room}.${peer}`);
      if (this.closed || this.peer !== peer) return;
      this.deps.send({ type: 'contact', inbox, key });
      this.deps.show({ contactId: inbox });
    } catch (err) {
      // No IndexedDB (private mode in some browsers): the call goes on, without "Save contact".
      this.deps.ports.log.warn('contacts unavailable', { err: String(err) });
    }
  }
}
