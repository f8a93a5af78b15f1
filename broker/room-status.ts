/**
 * Who is already in a call, before the person opens their camera (issue 16):
 *
 *   GET /api/room?room=<roomId>&peer=<peerId>
 *       200 { others: number, full: boolean }  how many peers other than
 *           `peer` hold a place in `room` on this broker (or the cluster's
 *           shared registry); full = no place is left for `peer`.
 *       400 { error: "bad-request" }    room or peer is not a well-formed id.
 *       404 { error: "external-broker" }  the app signals through another
 *           broker (BROKER_URL), whose rooms this server can't see.
 *       429 { error: "rate-limited" }  + Retry-After, per client address.
 *
 * Why not read the retained presence: looking at a room's topics needs a place
 * in it (issue 11, "Join takes the place"), and the camera must not start for
 * a third person (the pre-join screen shows the preview). The registry already
 * knows, and answers with a count only: no peer ids, no timing, nothing a link
 * holder couldn't learn by joining. The room id is a hash of the link's
 * secret, so nobody without the link can ask about a call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPeerId, isRoomId, ROOM_CAPACITY, type PeerId, type RoomId } from '../protocol/index';
import { limitKey } from './ip';
import { KeyedRateLimit, type Clock } from './limits';
import { json, methodNotAllowed } from './respond';

export interface RoomStatus {
  others: number;
  full: boolean;
}

export interface RoomStatusDeps {
  members(room: RoomId): Promise<PeerId[]>;
  clientAddress(req: IncomingMessage): string;
  /** Signaling runs on another broker: this one knows nothing about its rooms. */
  external: boolean;
  /** Requests per client address per minute. */
  perMinute?: number;
  now?: Clock;
}

/**
 * Sized for carrier-grade NAT: a page polls about every 10 s while its
 * pre-join screen is open, so 1200 a minute is some 200 people on pre-join
 * behind one address at the same moment.
 */
export const DEFAULT_ROOM_STATUS_PER_MINUTE = 1200;

export class RoomStatusEndpoint {
  private readonly limiter: KeyedRateLimit;

  constructor(private readonly deps: RoomStatusDeps) {
    const perMinute = deps.perMinute ?? DEFAULT_ROOM_STATUS_PER_MINUTE;
    this.limiter = new KeyedRateLimit(perMinute, perMinute / 60, deps.now ?? Date.now);
  }

  async serve(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    const retryAfter = this.limiter.take(limitKey(this.deps.clientAddress(req)));
    if (retryAfter !== null) return json(res, 429, { error: 'rate-limited' }, { 'Retry-After': String(retryAfter) });
    if (this.deps.external) return json(res, 404, { error: 'external-broker' });
    const query = new URLSearchParams(target.slice(target.indexOf('?') + 1 || target.length));
    const room = query.get('room');
    const peer = query.get('peer');
    if (!isRoomId(room) || !isPeerId(peer)) return json(res, 400, { error: 'bad-request' });
    const others = (await this.deps.members(room)).filter((p) => p !== peer).length;
    const status: RoomStatus = { others, full: others >= ROOM_CAPACITY };
    json(res, 200, status);
  }
}
