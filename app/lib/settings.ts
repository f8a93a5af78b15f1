/** Preferences kept on this device (localStorage); reading never throws (private mode, storage disabled). */
const RELAY_ONLY_KEY = 'tandem.relayOnly';

export const relayOnly = (): boolean => {
  try {
    return localStorage.getItem(RELAY_ONLY_KEY) === '1';
  } catch {
    return false;
  }
};

export function setRelayOnly(on: boolean): void {
  try {
    localStorage.setItem(RELAY_ONLY_KEY, on ? '1' : '0');
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

const NAME_KEY = 'tandem.myName';
const RING_TIMEOUT_KEY = 'tandem.ringTimeoutMs';

/** The name this person gives themselves; sent to a contact they save, as a suggestion. */
export const myName = (): string => {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
};

export function setMyName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name.trim().slice(0, 64));
  } catch {
    // Storage disabled: not remembered.
  }
}

/**
 * How long an outgoing ring waits for an answer: 30 s. Tests shorten it by
 * setting `localStorage['tandem.ringTimeoutMs']` (between 1 s and 30 s).
 */
export const ringTimeoutMs = (): number => {
  try {
    const ms = Number(localStorage.getItem(RING_TIMEOUT_KEY));
    return Number.isFinite(ms) && ms >= 1_000 && ms <= 30_000 ? ms : 30_000;
  } catch {
    return 30_000;
  }
};

/** How the person last chose to join (pre-join screen), and the data saver. Issue 14. */
export interface CallPrefs {
  camera: boolean;
  microphone: boolean;
  audioOnly: boolean;
  dataSaver: boolean;
}

const CALL_PREFS_KEY = 'tandem.callPrefs';
export const DEFAULT_CALL_PREFS: CallPrefs = { camera: true, microphone: true, audioOnly: false, dataSaver: false };

/** Unknown or malformed fields fall back to the defaults, one by one. */
export function callPrefs(): CallPrefs {
  try {
    const x: unknown = JSON.parse(localStorage.getItem(CALL_PREFS_KEY) ?? '{}');
    const o = typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
    const pick = (k: keyof CallPrefs) => (typeof o[k] === 'boolean' ? (o[k] as boolean) : DEFAULT_CALL_PREFS[k]);
    return { camera: pick('camera'), microphone: pick('microphone'), audioOnly: pick('audioOnly'), dataSaver: pick('dataSaver') };
  } catch {
    return { ...DEFAULT_CALL_PREFS };
  }
}

export function setCallPrefs(patch: Partial<CallPrefs>): void {
  try {
    localStorage.setItem(CALL_PREFS_KEY, JSON.stringify({ ...callPrefs(), ...patch }));
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}
