import { createResource, createSignal, Match, Switch } from 'solid-js';
import { relayOnly, setRelayOnly } from '../lib/settings';
import { fetchClientConfig } from '../signaling/config';
import { t } from '../i18n';

/**
 * Privacy setting: send everything through the relay server, so the other
 * person never learns your IP address (costs some latency). Offered only when
 * the server has a relay (TURN); a setting left on from another server is
 * named plainly, with a way to turn it off, and calls connect directly
 * meanwhile (issue 16).
 */
export function RelayToggle() {
  const [on, setOn] = createSignal(relayOnly());
  const [relay] = createResource(() => fetchClientConfig(location.origin).then((c) => c.relay, () => null));
  const toggle = () => {
    setRelayOnly(!on());
    setOn(!on());
  };
  return (
    <Switch>
      <Match when={relay() === true}>
        <button type="button" class="secondary toggle" aria-pressed={on()} onClick={toggle}>
          {on() ? t('relay.on') : t('relay.off')}
        </button>
      </Match>
      <Match when={relay() === false && on()}>
        <p class="fine relay-missing" role="status" data-testid="relay-unavailable">
          {t('relay.missing')}{' '}
          <button type="button" class="secondary small" onClick={toggle}>
            {t('relay.turnOff')}
          </button>
        </p>
      </Match>
    </Switch>
  );
}
