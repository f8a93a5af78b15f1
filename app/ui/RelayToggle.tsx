import { createSignal } from 'solid-js';
import { relayOnly, setRelayOnly } from '../lib/settings';

/**
 * Privacy setting: send everything through the relay server, so the other
 * person never learns your IP address (costs some latency; needs TURN).
 */
export function RelayToggle() {
  const [on, setOn] = createSignal(relayOnly());
  return (
    <button
      type="button"
      class="secondary toggle"
      aria-pressed={on()}
      onClick={() => {
        setRelayOnly(!on());
        setOn(!on());
      }}
    >
      {on() ? 'Relay only: on (your IP stays hidden)' : 'Relay only: off'}
    </button>
  );
}
