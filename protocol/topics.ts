/**
 * Topic layout. Every topic a client may touch lives under one room:
 *
 *   tandem/v1/<roomId>/<peerId>/presence   retained; the peer is here (+ its offer while it waits)
 *   tandem/v1/<roomId>/<peerId>/signal     not retained; descriptions, candidates, media state, bye
 *
 * The publisher's own peer id is in the topic, so the broker can check it
 * against the connection's clientId (`<roomId>.<peerId>`) and nobody can
 * speak as someone else. The retained presence topic carries the waiting
 * peer's offer as well, because an MQTT 3.1.1 client has only one Will, and
 * that one Will must clear both "I am here" and "here is my offer".
 */
import { isPeerId, isRoomId, type PeerId, type RoomId } from './ids';
import { MAX_TOPIC_CHARS, MAX_TOPIC_LEVELS } from './limits';

export const TOPIC_ROOT = 'tandem';
export const TOPIC_VERSION = 'v1';

export type TopicKind = 'presence' | 'signal';
export const TOPIC_KINDS: readonly TopicKind[] = ['presence', 'signal'];

/** Only presence is retained; the broker refuses retain anywhere else. */
export const isRetainedKind = (kind: TopicKind): boolean => kind === 'presence';

export function roomPrefix(room: RoomId): string {
  return `${TOPIC_ROOT}/${TOPIC_VERSION}/${room}`;
}

export function peerTopic(room: RoomId, peer: PeerId, kind: TopicKind): string {
  return `${roomPrefix(room)}/${peer}/${kind}`;
}

/** The filters a member subscribes to (one SUBSCRIBE packet carries both). */
export function roomFilters(room: RoomId): string[] {
  return TOPIC_KINDS.map((kind) => `${roomPrefix(room)}/+/${kind}`);
}

export interface ParsedTopic {
  room: RoomId;
  peer: PeerId;
  kind: TopicKind;
}

/** Parses a concrete (wildcard-free) topic; null for anything outside the layout. */
export function parseTopic(topic: string): ParsedTopic | null {
  if (topic.length > MAX_TOPIC_CHARS) return null;
  const parts = topic.split('/');
  if (parts.length !== 5) return null;
  const [root, version, room, peer, kind] = parts;
  if (root !== TOPIC_ROOT || version !== TOPIC_VERSION) return null;
  if (!isRoomId(room) || !isPeerId(peer)) return null;
  if (kind !== 'presence' && kind !== 'signal') return null;
  return { room, peer, kind };
}

/** Parses one of the filters from `roomFilters`; null for any other filter. */
export function parseRoomFilter(filter: string): { room: RoomId; kind: TopicKind } | null {
  if (filter.length > MAX_TOPIC_CHARS || filter.split('/').length > MAX_TOPIC_LEVELS) return null;
  const parts = filter.split('/');
  if (parts.length !== 5) return null;
  const [root, version, room, plus, kind] = parts;
  if (root !== TOPIC_ROOT || version !== TOPIC_VERSION || plus !== '+') return null;
  if (!isRoomId(room)) return null;
  if (kind !== 'presence' && kind !== 'signal') return null;
  return { room, kind };
}

/** The MQTT clientId binds a connection to one room and one peer id. */
export function clientIdFor(room: RoomId, peer: PeerId): string {
  return `${room}.${peer}`;
}

export function parseClientId(clientId: unknown): { room: RoomId; peer: PeerId } | null {
  if (typeof clientId !== 'string') return null;
  const [room, peer, ...rest] = clientId.split('.');
  if (rest.length > 0 || !isRoomId(room) || !isPeerId(peer)) return null;
  return { room, peer };
}
