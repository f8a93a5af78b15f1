/** What the call core needs from the outside world, injected so it runs under vitest. */
import type { MediaState, MessageOf, PeerId, PeerToken, RoomId, SignalMessage } from '../../protocol/index';
import type { EventMap } from '../lib/emitter';
import type { MediaControlsState } from '../media/controls';
import type { ClientConfig } from '../signaling/config';
import type { IceProvider } from '../signaling/ice';
import type { CallErrorReason } from './errors';
import type { CallContext, CallTimings } from './machine';
import type { Logger } from './negotiator';
import type { RoomStatus } from './occupancy';
import type { KeyValueStore } from './rejoin';

/**
 * `ready`: connected to the broker but not yet in the room (no place taken);
 * `connected`: in the room; `failed`: the reconnect policy gave up.
 */
export type SignalingStatus = 'connecting' | 'ready' | 'connected' | 'reconnecting' | 'full' | 'failed';

export type SignalingEvents = {
  message: (message: SignalMessage) => void;
  /** The peer's retained presence was cleared (hang-up, Will, or the broker). */
  'presence-cleared': (peer: PeerId) => void;
  status: (status: SignalingStatus) => void;
  /** A sealed message from someone with the link, but in another protocol version (its `v`). */
  incompatible: (version: number) => void;
};

export interface SignalingPort {
  readonly peerId: PeerId;
  on<K extends keyof SignalingEvents>(event: K, fn: SignalingEvents[K]): () => void;
  /** Seals and publishes; presence goes retained on the presence topic. */
  send(message: SignalMessage): Promise<void>;
  /** Publishes the empty retained presence (what the Will does on a crash). */
  clearPresence(): Promise<void>;
  /** Seals a message now, to be sent later with sendSealed (a bye for pagehide, when there is no time to seal). */
  seal(message: SignalMessage): Promise<SealedMessage>;
  /** Publishes an already sealed message at once (QoS 0): the page is going away and can't wait. */
  sendSealed(sealed: SealedMessage): void;
}

export interface SealedMessage {
  topic: string;
  payload: Uint8Array;
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

/** Resolves when `p` settles or after `ms` on `clock`, whichever is first; never rejects (best-effort goodbyes, an inbox grant). */
export function withTimeout(clock: Clock, p: Promise<unknown> | undefined, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(resolve, ms);
    void Promise.resolve(p)
      .catch(() => undefined)
      .finally(() => {
        clock.clearTimeout(t);
        resolve();
      });
  });
}

export type { EventMap };

/** Page-level events the call reacts to; the browser adapter (browser.ts) owns the real listeners. */
export type EnvironmentEvents = {
  /** The page became visible again. */
  visible: () => void;
  /** An interface came (back) up: the path may be new. */
  online: () => void;
  offline: () => void;
  /** navigator.connection's type changed (wifi -> cellular): a new path. */
  'network-type': () => void;
  /** The page is being hidden or unloaded (reload, back, tab closed). */
  pagehide: () => void;
};

export interface EnvironmentPort {
  on<K extends keyof EnvironmentEvents>(event: K, fn: EnvironmentEvents[K]): () => void;
}

/** The signaling connection as the controller drives it (MqttSignaling in the browser). */
export interface SignalingConnection extends SignalingPort {
  readonly status: SignalingStatus;
  connect(): Promise<void>;
  /** Take our place in the room (subscribe); until then we only hold a connection. */
  enter(): void;
  /** Reconnect now if the socket is down. */
  checkNow(): void;
  close(force?: boolean): Promise<void>;
}

/** The OS's call controls (lock screen, headset buttons), where the browser has them. */
export interface OsCallControls {
  set(handlers: { hangup(): void; toggleMicrophone(): void; toggleCamera(): void } | null): void;
}

export interface WakeLockPort {
  acquire(): Promise<void>;
  reacquire(): Promise<void>;
  release(): Promise<void>;
}

/** The local media controls as the controller uses them (app/media/controls.ts in the browser). */
export interface MediaControlsPort {
  readonly state: MediaControlsState;
  on(event: 'change', fn: (state: MediaControlsState) => void): () => void;
  on(event: 'error', fn: (reason: CallErrorReason) => void): () => void;
  attach(target: { replaceVideoTrack(track: MediaStreamTrack | null): Promise<void>; setMediaState(state: MediaState): void; videoIsSending(): Promise<boolean>; replaceAudioTrack?(track: MediaStreamTrack): Promise<void> }): void;
  toggleMute(): void;
  toggleCamera(): Promise<void>;
  switchCamera(): Promise<void>;
  toggleShare(): Promise<void>;
  toggleAudioOnly(): Promise<void>;
  toggleDataSaver(): void;
  switchMicrophone(deviceId: string): Promise<void>;
  reacquireCamera(): Promise<void>;
  stop(): void;
}

export interface SignalingParams {
  brokerUrl: string;
  room: RoomId;
  peerId: PeerId;
  /** Proves peerId to our broker (peerId = hash of it); any other broker ignores it. */
  token: PeerToken;
  key: CryptoKey;
  log: Logger;
}

/** `busy` is shown like `declined`, with its own message. */
export type RingStatus = 'ringing' | 'answered' | 'declined' | 'busy' | 'no-answer' | 'cancelled';

/** One outgoing ring (app/contacts/ring.ts). */
export interface RingHandle {
  readonly status: RingStatus;
  on(event: 'status', fn: (status: RingStatus) => void): () => void;
  /** They joined the call. */
  answered(): void;
  /** We hung up first. */
  cancel(): void;
}

/** A call that rings a saved contact: starts ringing once our offer waits in the room. */
export interface RingPort {
  readonly name: string;
  start(): RingHandle;
}

/** Saved contacts (app/contacts): each call offers the other person a fresh inbox. */
export interface CallContactsPort {
  /** Our inbox for the person in `<room>.<peer>`, made once. */
  offer(call: string): Promise<{ inbox: string; key: string }>;
  /** Their inbox for us arrived. */
  offered(call: string, inbox: string, key: string): Promise<void>;
}

export interface CallPorts {
  clock: Clock;
  log: Logger;
  /** The tab's storage (sessionStorage): peer token, "in this call" marker, autojoin. */
  storage: KeyValueStore;
  environment: EnvironmentPort;
  /** Throws a CallError where the page can't call at all (insecure page, no WebRTC). */
  checkSupport(): void;
  openMedia(): Promise<MediaStream>;
  createMediaControls(stream: MediaStream): MediaControlsPort;
  /** Starts loading the signaling client (mqtt.js) at once; resolves to its factory. */
  loadSignaling(): Promise<(params: SignalingParams) => SignalingConnection>;
  fetchConfig(): Promise<ClientConfig>;
  /** Who holds a place in the room, without taking one (occupancy.ts); null = the server can't tell. */
  roomStatus(room: RoomId, peer: PeerId): Promise<RoomStatus | null>;
  /** Resolves the next time the server answers. */
  onceOnline(): Promise<void>;
  createIceProvider(clientId: string, fallback: RTCIceServer[], onUpdate: (servers: RTCIceServer[]) => void): IceProvider;
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  /** Our DTLS certificate for this page session (RTCPeerConnection.generateCertificate). */
  generateCertificate(): Promise<RTCCertificate>;
  createMediaStream(): MediaStream;
  videoIsSending(pc: RTCPeerConnection): Promise<boolean>;
  /** The person's "Relay only" privacy setting. */
  relayOnly(): boolean;
  wakeLock: WakeLockPort;
  osCallControls: OsCallControls;
  timings?: CallTimings;
  /** Link calls: offer the other person a way to save us (absent in a call to a saved contact). */
  contacts?: CallContactsPort;
  /** A call to a saved contact. */
  ring?: RingPort;
}

/** What a CallSession tells its owner (the controller). */
export type SessionEvents = {
  state: (context: CallContext) => void;
  'remote-stream': (stream: MediaStream | null) => void;
  'remote-media': (state: MediaState | null) => void;
  /** A new RTCPeerConnection was built (for stats and the verification code). */
  'peer-connection': (pc: RTCPeerConnection | null) => void;
  /** Before we join: someone's (retained) presence arrived. */
  'peer-present': () => void;
  /** Verification: the peer we're bound to, both fingerprints of each negotiated connection, and their verify messages. */
  bound: (peer: PeerId) => void;
  fingerprints: (local: string, remote: string) => void;
  verify: (m: MessageOf<'verify-commit'> | MessageOf<'verify-reveal'>) => void;
  /** The other person's inbox for us (ring.ts), so either side can save the other as a contact. */
  contact: (m: MessageOf<'contact'>) => void;
  /** Offers and answers sent so far (a track switch must not add any), once each is handed to signaling. */
  negotiations: (count: number) => void;
};

export interface SessionDeps {
  signaling: SignalingPort;
  localStream: MediaStream;
  createPeerConnection: () => RTCPeerConnection;
  createMediaStream: () => MediaStream;
  clock: Clock;
  log: Logger;
  timings?: CallTimings;
}
