/**
 * The one place the UI reaches the call core. Components read signals and
 * call actions; they never touch mqtt.js or an RTCPeerConnection.
 *
 * Opening a call link prepares everything the tap doesn't need: camera
 * preview, key derivation, broker connection and room subscription (so the
 * other person's retained offer is already here when Join is tapped).
 */
import { batch, createContext, createSignal, useContext, type Accessor } from 'solid-js';
import { clientIdFor, deriveKey, deriveRoomId, isPeerToken, isSecret, newPeerToken, peerIdOf, type MediaState, type PeerId, type PeerToken, type RoomId } from '../../protocol/index';
import { CallError, isCallError, type CallErrorReason } from '../call/errors';
import type { CallState } from '../call/machine';
import type { Logger } from '../call/negotiator';
import { realClock, type SignalingStatus } from '../call/ports';
import { CallSession } from '../call/session';
import { checkMediaSupport, openLocalMedia, stopStream } from '../media/devices';
import { ScreenWakeLock } from '../media/wakelock';
import type { MqttSignaling } from '../signaling/mqtt';
import { onceOnline } from './app-state';
import { takeAutojoin } from './autojoin';
import { navigate } from './router';
import { fetchClientConfig, type ClientConfig } from './config';
import { createIceProvider, relayOnly, type IceProvider } from './ice';
import { createMediaControls, type MediaControls } from './media-controls';
import { createQuality } from './quality';

export type Phase = 'loading' | 'prejoin' | 'call';

export interface CallStore {
  readonly link: string;
  phase: Accessor<Phase>;
  state: Accessor<CallState>;
  error: Accessor<CallErrorReason | null>;
  remoteLeft: Accessor<boolean>;
  localStream: Accessor<MediaStream | null>;
  remoteStream: Accessor<MediaStream | null>;
  remoteMedia: Accessor<MediaState | null>;
  /** Signaling is down while media may still flow: a small hint, not a state. */
  serverHint: Accessor<boolean>;
  /** No network: the pre-join screen says so and Join waits for it. */
  offline: Accessor<boolean>;
  signalingStatus: Accessor<SignalingStatus>;
  negotiations: Accessor<number>;
  /** Join was tapped and the answer is being made: the call screen follows in a moment. */
  joining: Accessor<boolean>;
  controls: Accessor<MediaControls | null>;
  quality: ReturnType<typeof createQuality>;
  pictureInPicture(video: HTMLVideoElement | null): void;
  join(): void;
  hangup(): Promise<void>;
  dispose(): void;
}

/** `localStorage['tandem.debug'] = '1'` turns on debug logs in a production build (tests use it to explain failures). */
const DEBUG = (() => {
  try {
    return localStorage.getItem('tandem.debug') === '1';
  } catch {
    return false;
  }
})();

const log: Logger = {
  // Only event names and reasons: never SDP, candidates or the secret.
  debug: (msg, data) => {
    if (import.meta.env.DEV || DEBUG) console.debug(`[tandem] ${msg}`, data ?? '');
  },
  warn: (msg, data) => console.warn(`[tandem] ${msg}`, data ?? ''),
};

/**
 * One peer token per tab and room, so a reload is the same peer (client-id
 * takeover), never a third person. The peer id is its hash; the token itself
 * is the MQTT password and never leaves this tab otherwise.
 */
async function tabPeer(room: RoomId): Promise<{ peerId: PeerId; token: PeerToken }> {
  const key = `tandem.peer-token.${room}`;
  const saved = sessionStorage.getItem(key);
  const token = isPeerToken(saved) ? saved : newPeerToken();
  sessionStorage.setItem(key, token);
  return { peerId: await peerIdOf(token), token };
}

const JOINED_PREFIX = 'tandem.joined.';
const REJOIN_WITHIN_MS = 60_000;

/** Remembers, per tab, that we are in this call, so a reload skips the pre-join screen. */
function markJoined(room: RoomId, state: CallState): void {
  if (state === 'connected' || state === 'connecting' || state === 'reconnecting' || state === 'waiting') {
    sessionStorage.setItem(JOINED_PREFIX + room, String(Date.now()));
  } else if (state === 'ended') {
    sessionStorage.removeItem(JOINED_PREFIX + room);
  }
}

/** A reload after a long, steady call must count from now, not from the last state change. */
function touchJoined(room: RoomId): void {
  if (sessionStorage.getItem(JOINED_PREFIX + room)) sessionStorage.setItem(JOINED_PREFIX + room, String(Date.now()));
}

function recentlyJoined(room: RoomId): boolean {
  const at = Number(sessionStorage.getItem(JOINED_PREFIX + room));
  return at > 0 && Date.now() - at < REJOIN_WITHIN_MS;
}

export function createCallStore(secretText: string, origin: string): CallStore {
  const [phase, setPhase] = createSignal<Phase>('loading');
  // Before the session reports, the call screen is connecting to the server ('idle' is not a screen state).
  const [state, setState] = createSignal<CallState>('connecting');
  const [error, setError] = createSignal<CallErrorReason | null>(null);
  const [remoteLeft, setRemoteLeft] = createSignal(false);
  const [localStream, setLocalStream] = createSignal<MediaStream | null>(null);
  const [remoteStream, setRemoteStream] = createSignal<MediaStream | null>(null);
  const [remoteMedia, setRemoteMedia] = createSignal<MediaState | null>(null);
  const [serverHint, setServerHint] = createSignal(false);
  const [offline, setOffline] = createSignal(false);
  const [signalingStatus, setSignalingStatus] = createSignal<SignalingStatus>('connecting');
  const [negotiations, setNegotiations] = createSignal(0);
  const [joining, setJoining] = createSignal(false);
  const [controls, setControls] = createSignal<MediaControls | null>(null);
  const [pc, setPc] = createSignal<RTCPeerConnection | null>(null);
  const quality = createQuality(pc, () => state() === 'connected');
  const wakeLock = new ScreenWakeLock();

  let disposed = false;
  let session: CallSession | null = null;
  let signaling: MqttSignaling | null = null;
  let joinRequested = false;
  let takenAutojoin = false;
  let hangingUp: Promise<void> | null = null;
  let ice: IceProvider | null = null;
  let roomId: RoomId | null = null;
  const onPageHide = () => {
    if (roomId) touchJoined(roomId);
  };
  addEventListener('pagehide', onPageHide);

  const fail = (e: unknown) => {
    if (disposed) return;
    const err = isCallError(e) ? e : CallError.mediaFailed(e);
    log.warn('call failed', { reason: err.reason });
    setError(err.reason);
    setState('error');
    setPhase('call');
  };

  const startSession = () => {
    if (!session || !joinRequested || signaling?.status !== 'connected') return;
    // One batch: a joiner passes through `waiting` on its way to `connecting`
    // inside start(); rendering that (the waiting panel and its QR code) would
    // only cost CPU on the call-setup critical path.
    const s = session;
    batch(() => s.start());
    const show = () => {
      setPhase('call');
      void wakeLock.acquire();
      setMediaSessionHandlers();
    };
    if (s.context.state !== 'connecting') {
      show();
      return;
    }
    // A joiner: its answer is being made right now. Mounting the call screen
    // (videos, controls, panels) first would hold the main thread while the
    // browser hands the answer back, so it renders as soon as the answer is on
    // its way (150 ms at most; the Join button says "Joining…" meanwhile).
    setJoining(true);
    let shown = false;
    const once = () => {
      if (shown) return;
      shown = true;
      off();
      clearTimeout(fallback);
      setJoining(false);
      show();
    };
    const off = s.on('negotiations', once);
    const fallback = setTimeout(once, 150);
  };

  const setMediaSessionHandlers = (clear = false) => {
    const ms = navigator.mediaSession as MediaSession | undefined;
    const handlers: Array<[string, () => void]> = [
      ['hangup', () => {
        void store.hangup();
        navigate('/');
      }],
      ['togglemicrophone', () => controls()?.toggleMute()],
      ['togglecamera', () => void controls()?.toggleCamera()],
    ];
    for (const [action, fn] of handlers) {
      try {
        ms?.setActionHandler(action as MediaSessionAction, clear ? null : fn);
      } catch {
        // This browser doesn't know the action; the on-screen button still works.
      }
    }
  };

  /** Something may have died while we weren't looking: check signaling and media at once. */
  const recheck = (reason: 'visible' | 'network') => {
    signaling?.checkNow();
    const pcState = pc()?.connectionState;
    if (reason === 'network' || pcState === 'disconnected' || pcState === 'failed') session?.networkChanged();
    void controls()?.reacquireCamera();
  };
  const onVisible = () => {
    if (document.visibilityState !== 'visible') return;
    void wakeLock.reacquire();
    recheck('visible');
  };
  // `online`: an interface came (back) up, so the path may be new: restart ICE at once.
  // `offline`: nothing to restart over; check what is still alive.
  const onOnline = () => recheck('network');
  const onOffline = () => recheck('visible');
  const connection = (navigator as { connection?: EventTarget & { type?: string } }).connection;
  // `change` also fires for new bandwidth/RTT estimates (often, on Android); only a
  // new connection type (wifi -> cellular) means a new path.
  let connectionType = connection?.type;
  const onConnectionChange = () => {
    if (connection?.type === connectionType) return;
    connectionType = connection?.type;
    recheck('network');
  };
  document.addEventListener('visibilitychange', onVisible);
  addEventListener('online', onOnline);
  addEventListener('offline', onOffline);
  connection?.addEventListener('change', onConnectionChange);

  async function prepare(): Promise<void> {
    if (!isSecret(secretText)) throw CallError.invalidLink();
    // Before anything else: on an insecure page Web Crypto is missing too.
    checkMediaSupport();
    const secret = secretText;
    // mqtt.js (~100 KB gz), the camera and the config all start now, in
    // parallel with each other and with key derivation.
    const signalingModule = import('../signaling/mqtt').then((m) => {
      void m.loadMqtt();
      return m;
    });
    const mediaP = openLocalMedia();
    const configP = fetchClientConfig(origin);
    // Awaited below; until then a refusal must not surface as an unhandled rejection.
    mediaP.catch(() => undefined);
    configP.catch(() => undefined);
    const [room, key] = await Promise.all([deriveRoomId(secret), deriveKey(secret)]);
    roomId = room;
    // A reload, or the link reopened, within a minute of being in this call: straight back in.
    const autojoin = takeAutojoin(secret) || recentlyJoined(room);
    takenAutojoin = autojoin;
    const { MqttSignaling } = await signalingModule;
    let config: ClientConfig;
    try {
      config = await configP;
    } catch {
      // Offline (the shell came from the service worker): show the preview and wait for the network.
      setOffline(true);
      setLocalStream(await mediaP);
      if (!takenAutojoin) setPhase('prejoin');
      await onceOnline();
      config = await fetchClientConfig(origin).catch((e: unknown) => {
        throw CallError.signalingUnreachable(e);
      });
      setOffline(false);
    }
    const { peerId, token } = await tabPeer(room);
    const sig = new MqttSignaling({ brokerUrl: config.brokerUrl, room, peerId, token, key, log });
    ice = createIceProvider(clientIdFor(room, peerId), config.iceServers, (servers) => {
      const live = pc();
      if (live && live.connectionState !== 'closed') live.setConfiguration({ ...live.getConfiguration(), iceServers: servers });
    });
    const iceProvider = ice;
    signaling = sig;
    // Errors of the media request surface after signaling is wired, so a
    // full room still says "full" even without a camera.
    let stream: MediaStream;
    try {
      stream = await mediaP;
    } catch (e) {
      void sig.close();
      throw e;
    }
    if (disposed) {
      stopStream(stream);
      return;
    }
    setLocalStream(stream);
    const s = new CallSession({
      signaling: sig,
      localStream: stream,
      createPeerConnection: () => new RTCPeerConnection({ iceServers: iceProvider.current(), iceTransportPolicy: relayOnly() ? 'relay' : 'all' }),
      createMediaStream: () => new MediaStream(),
      clock: realClock,
      log,
    });
    session = s;
    s.on('state', (ctx) => {
      setState(ctx.state === 'idle' ? 'waiting' : ctx.state);
      setRemoteLeft(ctx.remoteLeft);
      setError(ctx.error);
      if (ctx.state === 'full') setPhase('call');
    });
    s.on('remote-stream', setRemoteStream);
    s.on('remote-media', setRemoteMedia);
    s.on('peer-connection', setPc);
    s.on('negotiations', setNegotiations);
    s.on('state', (ctx) => markJoined(room, ctx.state));
    setControls(createMediaControls(stream, () => session, (reason) => log.warn('control failed', { reason })));
    sig.on('status', (status) => {
      setServerHint(status === 'reconnecting');
      setSignalingStatus(status);
      // TURN credentials are issued only once the broker admitted us; fetch them before the first connection.
      if (status === 'connected') void iceProvider.refresh().finally(startSession);
    });
    await sig.connect();
    if (autojoin) joinRequested = true;
    setPhase(autojoin ? 'call' : 'prejoin');
    startSession();
  }

  prepare().catch(fail);

  const store: CallStore = {
    link: `${origin}/call#${secretText}`,
    phase,
    state,
    error,
    remoteLeft,
    localStream,
    remoteStream,
    remoteMedia,
    serverHint,
    offline,
    signalingStatus,
    negotiations,
    joining,
    controls,
    quality,
    pictureInPicture(video) {
      if (video && document.pictureInPictureEnabled && !document.pictureInPictureElement) void video.requestPictureInPicture().catch(() => undefined);
    },
    join() {
      joinRequested = true;
      startSession();
      // Not connected to the broker yet: show the call screen ("Connecting…") until it is.
      if (phase() === 'prejoin' && !joining()) setPhase('call');
    },
    hangup() {
      hangingUp ??= (async () => {
        controls()?.stop();
        void wakeLock.release();
        // Best effort: tell the other side and clear our retained presence, but never
        // let a dead network hold the person in the call (the Will covers the rest).
        await withTimeout(session?.hangup(), 1500);
        await withTimeout(signaling?.close(), 1000);
      })();
      return hangingUp;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      document.removeEventListener('visibilitychange', onVisible);
      removeEventListener('online', onOnline);
      removeEventListener('offline', onOffline);
      connection?.removeEventListener('change', onConnectionChange);
      removeEventListener('pagehide', onPageHide);
      quality.stop();
      ice?.stop();
      // The OS must not offer "hang up" for a call that is over.
      setMediaSessionHandlers(true);
      controls()?.stop();
      void wakeLock.release();
      stopStream(localStream());
      // A hang-up in progress finishes first, so its bye isn't cut off.
      void (hangingUp ?? Promise.resolve()).finally(() => {
        session?.close();
        void signaling?.close(true);
      });
    },
  };
  return store;
}

function withTimeout(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    void Promise.resolve(p).catch(() => undefined).finally(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export const CallStoreContext = createContext<CallStore>();

export function useCall(): CallStore {
  const store = useContext(CallStoreContext);
  if (!store) throw new Error('useCall() outside <CallStoreContext.Provider>');
  return store;
}
