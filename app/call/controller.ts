/**
 * One call, from opening the link to hang-up. Owns media, signaling, the
 * session, TURN config, relay choice, the tab's peer token and the page's
 * network/visibility events; every browser API arrives through an injected
 * port (CallPorts), so whole calls run under vitest. Its observable state is
 * one snapshot (CallView), changed by one setter that logs `old -> new`; the
 * Solid store only mirrors it (livekit's Room, mediasoup-client's Transport).
 *
 * Opening a link prepares what the tap doesn't need: camera preview, key
 * derivation, the broker connection. Join takes the place in the room.
 */
import { clientIdFor, deriveKey, deriveRoomId, isSecret, PROTOCOL_VERSION, type PeerId, type RoomId } from '../../protocol/index';
import type { ClientConfig } from '../signaling/config';
import type { IceProvider } from '../signaling/ice';
import { Emitter } from '../lib/emitter';
import { CallError, isCallError } from './errors';
import { initialContext, transition, type CallEvent } from './machine';
import type { ContactLink } from './contact-link';
import { withTimeout, type CallPorts, type MediaControlsPort, type SignalingConnection, type SignalingStatus } from './ports';
import { RoomWatch } from './occupancy';
import type { QualityMonitor } from './quality';
import { recentlyJoined, tabPeer, takeAutojoin, touchJoined } from './rejoin';
import { CallSession } from './session';
import { wireSession } from './wiring';
import type { VideoSending } from './sending';
import { initialView, type CallView } from './view';

export type { CallView, Phase } from './view';
export type { CallPorts, MediaControlsPort } from './ports';

export type CallEvents = {
  change: (view: CallView) => void;
};

/** A joiner's call screen waits at most this long for its answer to be sent (see join()). */
const SHOW_AFTER_ANSWER_MS = 150;
/** After Join's SUBACK, how long a retained offer may take to arrive and decrypt. */
const RETAINED_GRACE_MS = 250;
const HANGUP_BYE_MS = 1_500;
const HANGUP_CLOSE_MS = 1_000;

export class Call extends Emitter<CallEvents> {
  readonly link: string;
  private v: CallView = initialView();

  private closed = false;
  private session: CallSession | null = null;
  private signaling: SignalingConnection | null = null;
  private controls: MediaControlsPort | null = null;
  private ice: IceProvider | null = null;
  private quality: QualityMonitor | null = null;
  private sending: VideoSending | null = null;
  private pc: RTCPeerConnection | null = null;
  private room: RoomId | null = null;
  private joinRequested = false;
  /** The person tapped Join on the pre-join screen (not Start, not a reload back in). */
  private tappedJoin = false;
  /** The TURN request sent with our SUBSCRIBE (enterRoom), until the SUBACK's 'connected'. */
  private iceOnEntry: Promise<boolean> | null = null;
  private entered = false;
  private peerSeen: (() => void) | null = null;
  private hangingUp: Promise<void> | null = null;
  private contactLink: ContactLink | null = null;
  private roomWatch: RoomWatch | null = null;
  /** Batched changes are emitted once, at the end of the outermost batch. */
  private batchDepth = 0;
  private pendingEmit = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly secret: string,
    origin: string,
    private readonly ports: CallPorts,
  ) {
    super();
    this.link = `${origin}/call#${secret}`;
    const env = ports.environment;
    this.unsubscribe.push(
      env.on('pagehide', () => {
        if (this.room) touchJoined(this.room, ports.clock.now(), ports.storage);
        this.session?.leaveNow();
      }),
      env.on('visible', () => {
        void ports.wakeLock.reacquire();
        this.recheck(false);
      }),
      // `online`/a new connection type: the path may be new, restart ICE at once.
      // `offline`: nothing to restart over; check what is still alive.
      env.on('online', () => this.recheck(true)),
      env.on('network-type', () => this.recheck(true)),
      env.on('offline', () => this.recheck(false)),
    );
  }

  get view(): CallView {
    return this.v;
  }

  get media(): MediaControlsPort | null {
    return this.controls;
  }

  /** The one setter: returns early when nothing changed, logs phase/state transitions, then emits. */
  private update(patch: Partial<CallView>): void {
    if (this.closed) return;
    const keys = Object.keys(patch) as Array<keyof CallView>;
    if (keys.every((k) => this.v[k] === patch[k])) return;
    const old = this.v;
    this.v = { ...old, ...patch };
    if (old.phase !== this.v.phase) this.ports.log.debug(`phase ${old.phase} -> ${this.v.phase}`);
    if (old.state !== this.v.state) this.ports.log.debug(`view ${old.state} -> ${this.v.state}`, { error: this.v.error });
    if (this.batchDepth > 0) this.pendingEmit = true;
    else this.emit('change', this.v);
  }

  /** Runs `fn` and emits one change for everything it did (a joiner must not render the waiting panel it passes through). */
  private batch(fn: () => void): void {
    this.batchDepth++;
    try {
      fn();
    } finally {
      if (--this.batchDepth === 0 && this.pendingEmit) {
        this.pendingEmit = false;
        if (!this.closed) this.emit('change', this.v);
      }
    }
  }

  /** Every failure goes through the state machine: the session's, or before there is one, a fresh context. */
  private fail(e: unknown): void {
    if (this.closed) return;
    const err = isCallError(e) ? e : CallError.mediaFailed(e);
    this.ports.log.warn('call failed', { reason: err.reason });
    if (!this.session) return this.endBeforeSession({ type: 'error', reason: err.reason });
    this.controls?.stop();
    this.session.fail(err.reason);
    this.update({ phase: 'call' });
  }

  /** "This call is full" or an error before any session has started: the machine's verdict, camera off, the call screen. */
  private endBeforeSession(event: Extract<CallEvent, { type: 'full' | 'error' }>): void {
    this.controls?.stop();
    const { context } = transition(initialContext(), event, this.ports.clock.now());
    this.update({ state: context.state, error: context.error, phase: 'call' });
  }

  /** Opens the link: camera preview, keys, config and the broker connection, in parallel where they can be. */
  async open(): Promise<void> {
    try {
      await this.prepare();
    } catch (e) {
      this.fail(e);
    }
  }

  private async prepare(): Promise<void> {
    const p = this.ports;
    if (!isSecret(this.secret)) throw CallError.invalidLink();
    // Before anything else: on an insecure page Web Crypto is missing too.
    p.checkSupport();
    const secret = this.secret;
    const signalingP = p.loadSignaling();
    const configP = p.fetchConfig();
    const certificateP = p.generateCertificate();
    // Awaited below; until then a refusal must not surface as an unhandled rejection.
    for (const x of [signalingP, configP, certificateP]) x.catch(() => undefined);
    const [room, key] = await Promise.all([deriveRoomId(secret), deriveKey(secret)]);
    this.room = room;
    // A reload, or the link reopened, within a minute of being in this call: straight back in.
    const autojoin = takeAutojoin(secret, p.storage) || recentlyJoined(room, p.clock.now(), p.storage);
    const { peerId, token } = await tabPeer(room, p.storage);
    // Someone opening a link asks who is there before the camera opens (issue 16):
    // a third person's camera never starts for a full call. Start and a return
    // to our own call skip it: we hold (or just made) the place.
    if (!autojoin) {
      const status = await p.roomStatus(room, peerId);
      if (this.closed) return;
      if (status?.full) return this.endBeforeSession({ type: 'full' });
      this.update({ othersInRoom: status?.others ?? null });
    }
    const mediaP = p.openMedia();
    mediaP.catch(() => undefined);
    let config: ClientConfig;
    try {
      config = await configP;
    } catch {
      // Offline (the shell came from the service worker): show the preview and wait for the network.
      this.update({ offline: true });
      this.showLocal(await mediaP);
      if (!autojoin) this.update({ phase: 'prejoin' });
      await p.onceOnline();
      config = await p.fetchConfig().catch((e: unknown) => {
        throw CallError.signalingUnreachable(e);
      });
      this.update({ offline: false });
    }
    // Relay only without a relay would fail every call after 20 s (issue 16): connect directly and say so.
    const relay = p.relayOnly() && config.relay;
    this.update({ relayUnavailable: p.relayOnly() && !config.relay });
    const createSignaling = await signalingP;
    const certificate = await certificateP;
    if (this.closed) return;
    const sig = createSignaling({ brokerUrl: config.brokerUrl, room, peerId, token, key, log: p.log });
    this.signaling = sig;
    const ice = p.createIceProvider(clientIdFor(room, peerId), config.iceServers, (servers) => {
      const live = this.pc;
      if (live && live.connectionState !== 'closed') live.setConfiguration({ ...live.getConfiguration(), iceServers: servers });
    });
    this.ice = ice;
    // Errors of the media request surface after signaling is wired, so a
    // full room still says "full" even without a camera.
    let stream: MediaStream;
    try {
      stream = await mediaP;
    } catch (e) {
      void sig.close();
      throw e;
    }
    if (this.closed) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.showLocal(stream);
    const s = new CallSession({
      signaling: sig,
      localStream: stream,
      // One certificate per page session: an honest rebuild keeps its fingerprint, so the verification code stays.
      createPeerConnection: () => p.createPeerConnection({ iceServers: ice.current(), iceTransportPolicy: relay ? 'relay' : 'all', certificates: [certificate] }),
      createMediaStream: p.createMediaStream,
      clock: p.clock,
      log: p.log,
      timings: p.timings,
    });
    this.session = s;
    const { link, sending, quality } = wireSession(s, {
      ports: p,
      room,
      view: () => this.v,
      update: (patch) => this.update(patch),
      pc: () => this.pc,
      setPc: (pc) => (this.pc = pc),
      controls: () => this.controls,
      peerSeen: () => this.peerSeen?.(),
      hangup: () => void this.hangup(),
    });
    this.contactLink = link;
    this.sending = sending;
    this.quality = quality;
    sig.on('status', (status) => this.onSignalingStatus(status));
    // Another version can't make a call with us: tell the person instead of waiting forever.
    // Mid-call it is ignored, so nobody with the link can end a working call this way.
    sig.on('incompatible', (v) => {
      if (this.v.state !== 'connected' && this.v.state !== 'reconnecting') this.fail(CallError.versionMismatch(v, PROTOCOL_VERSION));
    });
    await sig.connect();
    if (this.closed) return;
    // Opening a link takes no place and reads nothing of the room: only Join
    // (or Start, or a reload straight back into the call) subscribes.
    if (autojoin) this.joinRequested = true;
    else this.tappedJoin = this.joinRequested;
    if (this.joinRequested) this.enterRoom();
    this.update({ phase: autojoin ? 'call' : 'prejoin' });
    this.startSession();
    if (!this.joinRequested) this.watchRoom(room, peerId);
  }

  /** While the pre-join screen is open: is the other person (still) waiting, did the call fill up? */
  private watchRoom(room: RoomId, peer: PeerId): void {
    const watch = new RoomWatch(this.ports.clock, () => this.ports.roomStatus(room, peer), (status) => {
      if (this.joinRequested || this.closed) return watch.stop();
      if (status.full) {
        watch.stop();
        void this.signaling?.close();
        this.endBeforeSession({ type: 'full' });
      } else this.update({ othersInRoom: status.others });
    });
    this.roomWatch = watch;
    watch.start();
  }

  private showLocal(stream: MediaStream): void {
    if (this.v.localStream === stream) return;
    const controls = this.ports.createMediaControls(stream);
    this.controls = controls;
    this.update({ localStream: stream, media: controls.state });
    this.unsubscribe.push(
      controls.on('change', (media) => this.update({ media })),
      controls.on('error', (reason) => this.ports.log.warn('control failed', { reason })),
    );
  }

  /**
   * Takes our place in the room. The TURN credentials are asked for in the
   * same breath: the server answers once the room admits us, a round trip
   * sooner than asking after the SUBACK (issue 14, setup on a slow link).
   */
  private enterRoom(): void {
    if (!this.signaling || this.entered) return;
    this.entered = true;
    this.signaling.enter();
    this.iceOnEntry = this.ice?.refresh({ awaitAdmission: true }) ?? null;
  }

  private onSignalingStatus(status: SignalingStatus): void {
    this.update({ signaling: status });
    // TURN credentials are issued only once the broker admitted us; have them before the first connection.
    // The request sent with the SUBSCRIBE usually has them already; asked again if it was refused (e.g. it
    // reached the server before the SUBSCRIBE) and after every reconnect (new credentials for a restart).
    if (status === 'connected') {
      const entry = this.iceOnEntry;
      this.iceOnEntry = null;
      const ice = entry ? entry.then((ok) => ok || this.ice?.refresh()) : this.ice?.refresh();
      void Promise.all([ice, this.retainedArrived()]).finally(() => this.startSession());
    }
    // The reconnect policy gave up. A call whose media still flows goes on (only its next ICE restart needs signaling).
    if (status === 'failed' && this.v.state !== 'connected') this.fail(CallError.signalingUnreachable());
  }

  /**
   * A joiner who tapped Join on a link subscribed just now; the host's
   * retained offer follows the SUBACK. Starting before it is decrypted would
   * make us a second waiter (a brief waiting screen, then glare), so wait
   * for it, but not long: maybe nobody is there.
   */
  private retainedArrived(): Promise<void> {
    if (!this.tappedJoin || this.session?.context.state !== 'idle' || this.session.peerWaiting) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.ports.clock.setTimeout(() => {
        this.peerSeen = null;
        resolve();
      }, RETAINED_GRACE_MS);
      this.peerSeen = () => {
        this.peerSeen = null;
        this.ports.clock.clearTimeout(t);
        resolve();
      };
    });
  }

  private startSession(): void {
    const s = this.session;
    if (!s || !this.joinRequested || this.signaling?.status !== 'connected' || this.closed) return;
    this.batch(() => s.start());
    const show = () => {
      this.update({ phase: 'call', joining: false });
      void this.ports.wakeLock.acquire();
      this.ports.osCallControls.set({
        hangup: () => void this.hangup(),
        toggleMicrophone: () => this.controls?.toggleMute(),
        toggleCamera: () => void this.controls?.toggleCamera(),
      });
    };
    if (s.context.state === 'waiting') this.contactLink?.waiting();
    if (s.context.state !== 'connecting' || this.v.phase === 'call') {
      show();
      return;
    }
    // A joiner: its answer is being made right now. Mounting the call screen
    // (videos, controls, panels) first would hold the main thread while the
    // browser hands the answer back, so it renders as soon as the answer is on
    // its way (150 ms at most; the Join button says "Joining…" meanwhile).
    this.update({ joining: true });
    let shown = false;
    const once = () => {
      if (shown) return;
      shown = true;
      off();
      this.ports.clock.clearTimeout(fallback);
      show();
    };
    const off = s.on('negotiations', once);
    const fallback = this.ports.clock.setTimeout(once, SHOW_AFTER_ANSWER_MS);
  }

  /** Something may have died while we weren't looking: check signaling and media at once. */
  private recheck(networkChanged: boolean): void {
    if (this.closed) return;
    this.signaling?.checkNow();
    const pcState = this.pc?.connectionState;
    if (networkChanged || pcState === 'disconnected' || pcState === 'failed') this.session?.networkChanged();
    void this.controls?.reacquireCamera();
  }

  /** The person tapped Join (the link's pre-join screen). */
  join(): void {
    if (this.closed) return;
    this.roomWatch?.stop();
    this.joinRequested = true;
    this.tappedJoin = true;
    // Takes our place in the room; the session starts once the SUBACK says we're in.
    this.enterRoom();
    this.startSession();
    // Not connected to the broker yet: show the call screen ("Connecting…") until it is.
    if (this.v.phase === 'prejoin' && !this.v.joining) this.update({ phase: 'call' });
  }

  /** Best effort: tell the other side and clear our retained presence, but never let a dead network hold the person in the call (the Will covers the rest). */
  hangup(): Promise<void> {
    this.hangingUp ??= (async () => {
      this.contactLink?.hangup();
      this.controls?.stop();
      void this.ports.wakeLock.release();
      await withTimeout(this.ports.clock, this.session?.hangup(), HANGUP_BYE_MS);
      await withTimeout(this.ports.clock, this.signaling?.close(), HANGUP_CLOSE_MS);
    })();
    return this.hangingUp;
  }

  /** Leaves the page: everything this call opened is closed. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const u of this.unsubscribe.splice(0)) u();
    this.roomWatch?.stop();
    this.quality?.close();
    this.contactLink?.close();
    this.sending?.close();
    this.ice?.stop();
    // The OS must not offer "hang up" for a call that is over.
    this.ports.osCallControls.set(null);
    this.controls?.stop();
    void this.ports.wakeLock.release();
    // A hang-up in progress finishes first, so its bye isn't cut off.
    const session = this.session;
    const signaling = this.signaling;
    void (this.hangingUp ?? Promise.resolve()).finally(() => {
      session?.close();
      void signaling?.close(true);
    });
    this.closed = true;
    this.removeAllListeners();
  }
}
