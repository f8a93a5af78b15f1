/**
 * The Solid adapter over one call (app/call/controller.ts): a signal per
 * field of the controller's snapshot, and actions that call its methods.
 * Components read these; they never touch mqtt.js, an RTCPeerConnection,
 * fetch or a window event.
 */
import { createContext, createSignal, useContext, type Accessor } from 'solid-js';
import { browserPorts } from '../call/browser';
import { Call, type CallView, type MediaControlsPort } from '../call/controller';
import type { MediaControlsState } from '../media/controls';
import type { InboxId, Secret } from '../../protocol/index';
import type { CallPorts } from '../call/ports';
import { contacts, isContactCall, loadedContacts, takeRing } from './contacts';
import { navigate } from './router';

export type { Phase } from '../call/controller';

type Mirror = { [K in keyof CallView]: Accessor<CallView[K]> };

/** The media buttons: the controller's media state plus the actions behind them. */
export type ControlsView = { [K in keyof MediaControlsState]: Accessor<MediaControlsState[K]> } & Pick<MediaControlsPort, 'toggleMute' | 'toggleCamera' | 'switchCamera' | 'toggleShare' | 'toggleAudioOnly' | 'toggleDataSaver' | 'switchMicrophone'>;

export interface CallStore extends Omit<Mirror, 'media'> {
  readonly link: string;
  /** The saved contact this call rings, if it does ("Call again"). */
  readonly ringContact: InboxId | null;
  /** Null until the camera is open. */
  controls: Accessor<ControlsView | null>;
  join(): void;
  hangup(): Promise<void>;
  dispose(): void;
}

/** A signal per key; each is set only when its value changed (Solid compares with ===). */
function mirror<T extends object>(initial: T): { get: { [K in keyof T]: Accessor<T[K]> }; set(next: T): void } {
  const get = {} as { [K in keyof T]: Accessor<T[K]> };
  const setters = new Map<keyof T, (v: never) => void>();
  for (const key of Object.keys(initial) as Array<keyof T>) {
    const [read, write] = createSignal(initial[key]);
    get[key] = read as Accessor<T[typeof key]>;
    setters.set(key, write as (v: never) => void);
  }
  return {
    get,
    set(next) {
      for (const [key, write] of setters) write((() => next[key]) as never);
    },
  };
}

const NO_MEDIA: MediaControlsState = { muted: false, cameraOff: false, sharing: false, busy: false, mirrored: true, selfStream: null as unknown as MediaStream, canSwitchCamera: false, canShareScreen: false, audioOnly: false, dataSaver: false };

export function createCallStore(secret: string, origin: string): CallStore {
  const ports = withContacts(secret, browserPorts(origin, () => navigate('/')));
  const call = new Call(secret, origin, ports.ports);
  const view = mirror(call.view);
  const media = mirror(call.view.media ?? NO_MEDIA);
  call.on('change', (v) => {
    view.set(v);
    if (v.media) media.set(v.media);
  });
  const controls: ControlsView = {
    ...media.get,
    toggleMute: () => call.media?.toggleMute(),
    toggleCamera: () => call.media?.toggleCamera() ?? Promise.resolve(),
    switchCamera: () => call.media?.switchCamera() ?? Promise.resolve(),
    toggleShare: () => call.media?.toggleShare() ?? Promise.resolve(),
    toggleAudioOnly: () => call.media?.toggleAudioOnly() ?? Promise.resolve(),
    toggleDataSaver: () => call.media?.toggleDataSaver(),
    switchMicrophone: (id) => call.media?.switchMicrophone(id) ?? Promise.resolve(),
  };
  void call.open();
  const { media: _media, ...rest } = view.get;
  return {
    ...rest,
    link: call.link,
    ringContact: ports.ringContact,
    controls: () => (view.get.media() ? controls : null),
    join: () => call.join(),
    hangup: () => call.hangup(),
    dispose: () => call.close(),
  };
}

/** A call to a saved contact rings them; a link call offers the other person a way to save us. */
function withContacts(secret: string, ports: CallPorts): { ports: CallPorts; ringContact: InboxId | null } {
  const ringId = takeRing(secret);
  const service = loadedContacts();
  const contact = ringId ? service?.list.find((c) => c.id === ringId) : undefined;
  if (service && contact) return { ports: { ...ports, ring: { name: contact.name, start: () => service.ring(contact.id, secret as Secret) } }, ringContact: contact.id };
  if (ringId || isContactCall(secret)) return { ports, ringContact: null };
  const offers: CallPorts['contacts'] = {
    offer: async (c) => (await contacts()).offer(c),
    offered: async (c, inbox, key) => (await contacts()).offered(c, inbox as InboxId, key),
  };
  return { ports: { ...ports, contacts: offers }, ringContact: null };
}

export const CallStoreContext = createContext<CallStore>();

export function useCall(): CallStore {
  const store = useContext(CallStoreContext);
  if (!store) throw new Error('useCall() outside <CallStoreContext.Provider>');
  return store;
}
