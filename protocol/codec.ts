/** Sealing and opening whole messages: JSON + AES-GCM bound to the topic. */
import { open, seal } from './crypto';
import { parseMessage, type SignalMessage } from './messages';
import type { TopicKind } from './topics';

export function sealMessage(key: CryptoKey, topic: string, message: SignalMessage): Promise<Uint8Array> {
  return seal(key, topic, JSON.stringify(message));
}

/** Throws DecryptError or ProtocolError; the caller drops and counts. */
export async function openMessage(key: CryptoKey, topic: string, kind: TopicKind, payload: Uint8Array): Promise<SignalMessage> {
  return parseMessage(await open(key, topic, payload), kind);
}
