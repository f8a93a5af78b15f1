/**
 * Who is already in the call, from the server's room registry (GET /api/room,
 * broker/room-status.ts), before we take a place (issue 16): a third person
 * learns the call is full before their camera opens, and the pre-join screen
 * says "The other person is waiting".
 */
import type { PeerId, RoomId } from '../../protocol/index';
import type { Clock } from './ports';

export interface RoomStatus {
  /** Peers other than us holding a place. */
  others: number;
  /** No place left for us. */
  full: boolean;
}

/** How often the pre-join screen asks again while it is open. */
export const ROOM_POLL_MS = 10_000;
/** A slow answer must not hold the camera back for long: after this, open it and let Join find out. */
export const ROOM_STATUS_TIMEOUT_MS = 1_500;

/** Null when the server can't tell (offline, another broker, rate-limited, too slow): the call goes on as if unknown. */
export async function fetchRoomStatus(room: RoomId, peer: PeerId, get: typeof fetch = (...a) => fetch(...a)): Promise<RoomStatus | null> {
  try {
    const res = await get(`/api/room?room=${encodeURIComponent(room)}&peer=${encodeURIComponent(peer)}`, {
      cache: 'no-store',
      signal: AbortSignal.timeout(ROOM_STATUS_TIMEOUT_MS),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as Partial<RoomStatus>;
    return typeof body.others === 'number' && typeof body.full === 'boolean' ? { others: body.others, full: body.full } : null;
  } catch {
    return null;
  }
}

/** Asks again every ROOM_POLL_MS until stopped (the person joined or left the pre-join screen). */
export class RoomWatch {
  private timer: unknown = null;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly check: () => Promise<RoomStatus | null>,
    private readonly onStatus: (status: RoomStatus) => void,
    private readonly everyMs = ROOM_POLL_MS,
  ) {}

  start(): void {
    if (!this.stopped && this.timer === null) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => void this.poll(), this.everyMs);
  }

  private async poll(): Promise<void> {
    const status = await this.check();
    if (this.stopped) return;
    if (status) this.onStatus(status);
    this.schedule();
  }
}
