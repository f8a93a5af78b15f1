/**
 * The real browser behind each of the controller's ports. The only place in
 * the call's code that touches window events, sessionStorage, fetch,
 * getUserMedia, the Wake Lock and Media Session APIs, and RTCPeerConnection.
 */
import { callPrefs, relayOnly } from '../lib/settings';
import { MediaControls } from '../media/controls';
import { useCallAudioSession } from '../media/output';
import { checkMediaSupport, openLocalMedia } from '../media/devices';
import { ScreenWakeLock } from '../media/wakelock';
import { fetchClientConfig, waitForServer, wakeOnOnline } from '../signaling/config';
import { createIceProvider } from '../signaling/ice';
import type { CallPorts } from './controller';
import { Emitter } from '../lib/emitter';
import type { Logger } from './negotiator';
import { realClock, type EnvironmentEvents, type EnvironmentPort, type OsCallControls } from './ports';
import { videoIsSending } from './stats';
import { fetchRoomStatus } from './occupancy';

/** `localStorage['tandem.debug'] = '1'` turns on debug logs in a production build (tests use it to explain failures). */
const DEBUG = (() => {
  try {
    return localStorage.getItem('tandem.debug') === '1';
  } catch {
    return false;
  }
})();

export const browserLog: Logger = {
  // Only event names and reasons: never SDP, candidates or the secret.
  debug: (msg, data) => {
    if (import.meta.env.DEV || DEBUG) console.debug(`[tandem] ${msg}`, data ?? '');
  },
  warn: (msg, data) => console.warn(`[tandem] ${msg}`, data ?? ''),
};

/** window/document/navigator.connection events, listened to only while someone is subscribed. */
class BrowserEnvironment extends Emitter<EnvironmentEvents> implements EnvironmentPort {
  private count = 0;
  private detach: (() => void) | null = null;

  override on<K extends keyof EnvironmentEvents>(event: K, fn: EnvironmentEvents[K]): () => void {
    const off = super.on(event, fn);
    if (this.count++ === 0) this.detach = this.attach();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      off();
      if (--this.count === 0) {
        this.detach?.();
        this.detach = null;
      }
    };
  }

  private attach(): () => void {
    const onVisible = () => {
      if (document.visibilityState === 'visible') this.emit('visible');
    };
    const onOnline = () => this.emit('online');
    const onOffline = () => this.emit('offline');
    const onPageHide = () => this.emit('pagehide');
    const connection = (navigator as { connection?: EventTarget & { type?: string } }).connection;
    // `change` also fires for new bandwidth/RTT estimates (often, on Android); only a
    // new connection type (wifi -> cellular) means a new path.
    let type = connection?.type;
    const onConnection = () => {
      if (connection?.type === type) return;
      type = connection?.type;
      this.emit('network-type');
    };
    document.addEventListener('visibilitychange', onVisible);
    addEventListener('online', onOnline);
    addEventListener('offline', onOffline);
    addEventListener('pagehide', onPageHide);
    connection?.addEventListener('change', onConnection);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      removeEventListener('online', onOnline);
      removeEventListener('offline', onOffline);
      removeEventListener('pagehide', onPageHide);
      connection?.removeEventListener('change', onConnection);
    };
  }
}

const osCallControls: OsCallControls = {
  set(handlers) {
    const ms = navigator.mediaSession as MediaSession | undefined;
    const table: Array<[string, (() => void) | undefined]> = [
      ['hangup', handlers?.hangup],
      ['togglemicrophone', handlers?.toggleMicrophone],
      ['togglecamera', handlers?.toggleCamera],
    ];
    for (const [action, fn] of table) {
      try {
        ms?.setActionHandler(action as MediaSessionAction, fn ?? null);
      } catch {
        // This browser doesn't know the action; the on-screen button still works.
      }
    }
  },
};

export function browserPorts(origin: string, onHangupFromOs: () => void): CallPorts {
  const environment = new BrowserEnvironment();
  return {
    clock: realClock,
    log: browserLog,
    storage: sessionStorage,
    environment,
    checkSupport: checkMediaSupport,
    // The pre-join choices this device remembers (issue 14): the call starts that way.
    openMedia: () => {
      // Safari: a call's audio routing (earpiece/speaker), set before the microphone opens.
      useCallAudioSession();
      const prefs = callPrefs();
      return openLocalMedia(prefs.camera && !prefs.audioOnly);
    },
    createMediaControls: (stream) => {
      const prefs = callPrefs();
      return new MediaControls(stream, { muted: !prefs.microphone, cameraOff: !prefs.camera, audioOnly: prefs.audioOnly, dataSaver: prefs.dataSaver });
    },
    // mqtt.js (~100 KB gz) starts loading now, in parallel with the camera and the config.
    loadSignaling: () =>
      import('../signaling/mqtt').then(async (m) => {
        const mqtt = await m.loadMqtt();
        return (params) => new m.MqttSignaling({ ...params, mqtt });
      }),
    fetchConfig: () => fetchClientConfig(origin),
    roomStatus: (room, peer) => fetchRoomStatus(room, peer),
    onceOnline: () => waitForServer(realClock, wakeOnOnline),
    createIceProvider: (clientId, fallback, onUpdate) => createIceProvider(clientId, fallback, onUpdate),
    createPeerConnection: (config) => new RTCPeerConnection(config),
    // ECDSA P-256: what browsers generate by default, and fast to make.
    generateCertificate: () => RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams),
    createMediaStream: () => new MediaStream(),
    videoIsSending: (pc) => videoIsSending(pc),
    relayOnly,
    wakeLock: new ScreenWakeLock(),
    osCallControls: {
      set: (handlers) => osCallControls.set(handlers && { ...handlers, hangup: () => { handlers.hangup(); onHangupFromOs(); } }),
    },
  };
}
