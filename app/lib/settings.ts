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
