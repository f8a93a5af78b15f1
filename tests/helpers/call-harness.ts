/**
 * Whole calls under vitest: real `Call` controllers, a real in-process server
 * (Aedes with our hooks), real mqtt.js clients over WebSockets, and fake
 * WebRTC (fake-webrtc.ts). The controllers' timers run on a fake clock the
 * test advances; network I/O runs in real time, so tests await states.
 */
import mqtt from 'mqtt';
import { afterEach, beforeEach } from 'vitest';
import { EventEmitter } from 'node:events';
import { newSecret, type MediaState, type SignalMessage } from '../../protocol/index';
import { Call, type CallPorts, type CallView, type MediaControlsPort } from '../../app/call/controller';
import type { Logger } from '../../app/call/negotiator';
import type { Clock, EnvironmentEvents, EnvironmentPort, SignalingConnection } from '../../app/call/ports';
import type { KeyValueStore } from '../../app/call/rejoin';
import type { MediaControlsState } from '../../app/media/controls';
import { fetchRoomStatus } from '../../app/call/occupancy';
import { createIceProvider } from '../../app/signaling/ice';
import { MqttSignaling } from '../../app/signaling/mqtt';
import type { ReconnectPolicy } from '../../app/signaling/reconnect';
import { cleanup, startTestServer, type TestServer } from './broker';
import { activity, cameraStream, fakeCertificate, FakeNet, type FakePeerConnection, type FakeStream } from './fake-webrtc';

/** A manual clock: timers fire only when the test advances it. */
export class FakeClock implements Clock {
  private t = 1_700_000_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.timers.delete(h as number);
  };

  /** Moves time forward, firing due timers in order (with a turn of the event loop after each). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

export class MemoryStorage implements KeyValueStore {
  readonly map = new Map<string, string>();
  getItem = (k: string) => this.map.get(k) ?? null;
  setItem = (k: string, v: string) => void this.map.set(k, v);
  removeItem = (k: string) => void this.map.delete(k);
}

/** Page events the test fires by hand. */
export class FakeEnvironment implements EnvironmentPort {
  private e = new EventEmitter();
  on<K extends keyof EnvironmentEvents>(event: K, fn: EnvironmentEvents[K]): () => void {
    this.e.on(event, fn);
    return () => this.e.off(event, fn);
  }
  fire(event: keyof EnvironmentEvents): void {
    this.e.emit(event);
  }
  get listeners(): number {
    return this.e.eventNames().reduce((n, name) => n + this.e.listenerCount(name), 0);
  }
}

/** Media controls without a camera: mute and camera-off change state and tell the session. */
export class FakeControls implements MediaControlsPort {
  private readonly e = new EventEmitter();
  state: MediaControlsState;
  private target: Parameters<MediaControlsPort['attach']>[0] | null = null;
  stopped = false;
  constructor(stream: FakeStream) {
    this.state = { muted: false, cameraOff: false, sharing: false, busy: false, mirrored: true, selfStream: stream as unknown as MediaStream, canSwitchCamera: false, canShareScreen: false, audioOnly: false, dataSaver: false };
  }
  on(event: 'change' | 'error', fn: (x: never) => void): () => void {
    const f = fn as (...a: unknown[]) => void;
    this.e.on(event, f);
    return () => this.e.off(event, f);
  }
  private media = (): MediaState => ({ audioMuted: this.state.muted, videoOff: this.state.cameraOff || this.state.audioOnly, screen: false, ...(this.state.audioOnly ? { audioOnly: true } : {}) });
  attach(target: Parameters<MediaControlsPort['attach']>[0]): void {
    this.target = target;
    target.setMediaState(this.media());
  }
  private set(patch: Partial<MediaControlsState>): void {
    this.state = { ...this.state, ...patch };
    this.e.emit('change', this.state);
    this.target?.setMediaState(this.media());
  }
  toggleMute(): void {
    this.set({ muted: !this.state.muted });
  }
  async toggleCamera(): Promise<void> {
    await this.target?.replaceVideoTrack(null);
    this.set({ cameraOff: !this.state.cameraOff });
  }
  async switchCamera(): Promise<void> {}
  async toggleShare(): Promise<void> {}
  async toggleAudioOnly(): Promise<void> {
    await this.target?.replaceVideoTrack(null);
    this.set({ audioOnly: !this.state.audioOnly });
  }
  async switchMicrophone(): Promise<void> {}
  toggleDataSaver(): void {
    this.set({ dataSaver: !this.state.dataSaver });
  }
  async reacquireCamera(): Promise<void> {}
  stop(): void {
    this.stopped = true;
  }
}

export interface Party {
  name: string;
  call: Call;
  ports: CallPorts;
  storage: MemoryStorage;
  env: FakeEnvironment;
  /** Every message this side handed to signaling, in order. */
  sent: SignalMessage[];
  /** Every distinct call state the view went through, in order. */
  states: CallView['state'][];
  signalingStates: string[];
  signaling: () => MqttSignaling | null;
  warnings: string[];
  /** Wake-lock requests held (0 once released) and re-requests after the page became visible. */
  counts: { wakeLock: number; wakeLockAgain: number };
  /** What the OS call controls (lock screen, headset) would do now; null once the call is over. */
  osControls: { current: Parameters<CallPorts['osCallControls']['set']>[0] };
  /** Emits `sent` after each message handed to signaling (until() re-checks on it). */
  events: EventEmitter;
  /** Hold this side's outgoing descriptions of `kind` until released (a slow or reordered network). */
  holdSends(filter: (m: SignalMessage) => boolean): () => Promise<void>;
}

export interface PartyOptions {
  name: string;
  secret: string;
  origin: string;
  brokerUrl: string;
  net: FakeNet;
  clock: FakeClock;
  storage?: MemoryStorage;
  /** The person tapped "Start a call" (their page joins without the pre-join tap). */
  autojoin?: boolean;
  reconnectPolicy?: ReconnectPolicy;
  overrides?: Partial<CallPorts>;
}

const silent = (name: string, warnings: string[]): Logger => ({
  debug: () => undefined,
  warn: (msg, data) => void warnings.push(`${name}: ${msg} ${JSON.stringify(data ?? {})}`),
});

export function party(o: PartyOptions): Party {
  const storage = o.storage ?? new MemoryStorage();
  if (o.autojoin) storage.setItem('tandem.autojoin', o.secret);
  const env = new FakeEnvironment();
  const sent: SignalMessage[] = [];
  const events = new EventEmitter();
  const warnings: string[] = [];
  let sig: MqttSignaling | null = null;
  let hold: { filter: (m: SignalMessage) => boolean; queue: Array<() => Promise<void>> } | null = null;
  const log = silent(o.name, warnings);
  const counts = { wakeLock: 0, wakeLockAgain: 0 };
  const osControls: { current: Parameters<CallPorts['osCallControls']['set']>[0] } = { current: null };
  const ports: CallPorts = {
    clock: o.clock,
    log,
    storage,
    environment: env,
    checkSupport: () => undefined,
    openMedia: async () => cameraStream() as unknown as MediaStream,
    createMediaControls: (stream) => new FakeControls(stream as unknown as FakeStream),
    loadSignaling: async () => (params) => {
      const s = new MqttSignaling({ ...params, mqtt, clock: o.clock, reconnectPolicy: o.reconnectPolicy });
      const send = s.send.bind(s);
      s.send = async (m) => {
        if (hold?.filter(m)) {
          hold.queue.push(async () => {
            sent.push(m);
            await send(m);
          });
          return;
        }
        sent.push(m);
        await send(m);
        events.emit('sent', m);
      };
      sig = s;
      return s as SignalingConnection;
    },
    fetchConfig: async () => ({ brokerUrl: o.brokerUrl, iceServers: [], relay: false, vapidPublicKey: null }),
    roomStatus: (room, peer) => fetchRoomStatus(room, peer, (url, init) => fetch(`${o.origin}${String(url)}`, init)),
    onceOnline: async () => undefined,
    createIceProvider: (clientId, fallback, onUpdate) => createIceProvider(clientId, fallback, onUpdate, { clock: o.clock, fetch: (url, init) => fetch(`${o.origin}${String(url)}`, init) }),
    createPeerConnection: (config) => o.net.factory(config),
    generateCertificate: async () => fakeCertificate(),
    createMediaStream: () => new (class {
      private tracks: unknown[] = [];
      addTrack = (t: unknown) => void this.tracks.push(t);
      getTracks = () => this.tracks;
    })() as unknown as MediaStream,
    videoIsSending: async () => true,
    relayOnly: () => false,
    wakeLock: { acquire: async () => void counts.wakeLock++, reacquire: async () => void counts.wakeLockAgain++, release: async () => void (counts.wakeLock = 0) },
    osCallControls: { set: (h) => void (osControls.current = h) },
    ...o.overrides,
  };
  const call = new Call(o.secret, o.origin, ports);
  const states: CallView['state'][] = [];
  const signalingStates: string[] = [];
  call.on('change', (v) => {
    if (states.at(-1) !== v.state) states.push(v.state);
    if (signalingStates.at(-1) !== v.signaling) signalingStates.push(v.signaling);
  });
  return {
    name: o.name,
    call,
    ports,
    storage,
    env,
    sent,
    states,
    signalingStates,
    signaling: () => sig,
    warnings,
    events,
    counts,
    osControls,
    holdSends(filter) {
      hold = { filter, queue: [] };
      const h = hold;
      return async () => {
        if (hold === h) hold = null;
        for (const f of h.queue.splice(0)) await f();
      };
    },
  };
}

/** Resolves once `pred(view)` holds (checked on every change), or fails naming what it waited for. */
export function until(p: Party, pred: (v: CallView) => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  if (pred(p.call.view)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pred(p.call.view)) return;
      clearTimeout(t);
      off();
      resolve();
    };
    const t = setTimeout(() => {
      off();
      reject(new Error(`${p.name}: never reached ${what}; states ${p.states.join(' > ')}; signaling ${p.signalingStates.join(' > ')}; verification ${p.call.view.verification}; sent ${kinds(p).join(',')}; warnings ${p.warnings.join('; ')}`));
    }, timeoutMs);
    const offChange = p.call.on('change', check);
    p.events.on('sent', check);
    activity.on('settle', check);
    const off = () => {
      offChange();
      p.events.off('sent', check);
      activity.off('settle', check);
    };
  });
}

export const state = (p: Party, s: CallView['state'], timeoutMs?: number) => until(p, (v) => v.state === s, `state ${s}`, timeoutMs);

/** The message types a side sent, without trickled candidates (their number depends on gathering). */
export const kinds = (p: Party): string[] =>
  p.sent.filter((m) => m.type !== 'candidate').map((m) => (m.type === 'description' ? `${m.description.type}` : m.type === 'presence' ? (m.offer ? 'presence+offer' : 'presence') : m.type));

/**
 * One test file's world: a real in-process server, a fake network and a fake
 * clock per test, and every Call closed afterwards. Register with
 * `const t = callTestbed()` at the top of a test file.
 */
export function callTestbed() {
  const t = {
    server: null as unknown as TestServer,
    net: null as unknown as FakeNet,
    clock: null as unknown as FakeClock,
    secret: '',
    parties: [] as Party[],
    /** Opens the call link in a new page (Call controller) and starts preparing it. */
    open(name: string, extra: Partial<PartyOptions> = {}): Party {
      const p = party({ name, secret: t.secret, origin: t.server.url, brokerUrl: t.server.mqttUrl, net: t.net, clock: t.clock, ...extra });
      t.parties.push(p);
      void p.call.open();
      return p;
    },
    /** The RTCPeerConnection a side uses now. */
    pcOf: (p: Party) => (p.call as unknown as { pc: FakePeerConnection | null }).pc ?? undefined,
    /** Alice taps Start (her page joins at once); Bob opens the link and taps Join. */
    async connectedPair(bobExtra: Partial<PartyOptions> = {}): Promise<[Party, Party]> {
      const alice = t.open('alice', { autojoin: true });
      await state(alice, 'waiting');
      await until(alice, () => alice.sent.some((m) => m.type === 'presence' && m.offer?.sdp.includes('a=candidate')), 'a retained offer with candidates');
      const bob = t.open('bob', bobExtra);
      await until(bob, (v) => v.phase === 'prejoin', 'the pre-join screen');
      bob.call.join();
      await Promise.all([state(alice, 'connected'), state(bob, 'connected')]);
      return [alice, bob];
    },
  };
  beforeEach(async () => {
    t.server = await startTestServer();
    t.net = new FakeNet();
    t.clock = new FakeClock();
    t.secret = newSecret();
  });
  afterEach(async () => {
    for (const p of t.parties.splice(0)) p.call.close();
    await cleanup();
  });
  return t;
}
