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
