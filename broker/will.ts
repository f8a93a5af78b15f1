/**
 * The one Will a client may leave (hooks.ts checks it at CONNECT). The app's
 * only Will clears its own retained presence when its connection dies
 * (app/signaling/mqtt.ts); any other topic would let a client publish where
 * it may not, after it is gone, and QoS 2 and payloads cost state.
 */
import { peerTopic, type PeerId, type RoomId } from '../protocol/index';
import { payloadBytes } from './refusals';

/** The Will a client sent in CONNECT, as Aedes hands it to preConnect. */
export interface WillPacket {
  topic: string;
  payload: Buffer | string;
  qos: number;
  retain: boolean;
}

/** Why a CONNECT's Will is refused, or null (none, or the presence clear). */
export function willProblem(will: WillPacket | null, room: RoomId, peer: PeerId): string | null {
  if (will === null) return null;
  if (will.topic !== peerTopic(room, peer, 'presence')) return 'topic';
  if (payloadBytes(will.payload) !== 0) return 'payload';
  if (!will.retain) return 'retain';
  if (will.qos > 1) return 'qos';
  return null;
}
