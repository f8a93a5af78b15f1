/** What the call core needs from the outside world, injected so it runs under vitest. */
import type { PeerId, SignalMessage } from '../../protocol/index';
import type { EventMap } from '../lib/emitter';

export type SignalingStatus = 'connecting' | 'connected' | 'reconnecting' | 'full';

export type SignalingEvents = {
  message: (message: SignalMessage) => void;
  /** The peer's retained presence was cleared (hang-up, Will, or the broker). */
  'presence-cleared': (peer: PeerId) => void;
  status: (status: SignalingStatus) => void;
};

export interface SignalingPort {
  readonly peerId: PeerId;
  on<K extends keyof SignalingEvents>(event: K, fn: SignalingEvents[K]): () => void;
  /** Seals and publishes; presence goes retained on the presence topic. */
  send(message: SignalMessage): Promise<void>;
  /** Publishes the empty retained presence (what the Will does on a crash). */
  clearPresence(): Promise<void>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type { EventMap };
