import { lazy, Match, Suspense, Switch } from 'solid-js';
import { Home } from './Home';
import { IncomingCall } from './IncomingCall';
import { route } from './router';
import { UpdateBanner } from './UpdateBanner';
import { t } from '../i18n';

// The call screen pulls in the call core (and, from there, mqtt.js) on demand.
const CallPage = lazy(() => import('./CallPage'));

export function App() {
  return (
    <>
    <UpdateBanner />
    <IncomingCall />
    <Switch>
      <Match when={route().name === 'home'}>
        <Home />
      </Match>
      {/* Keyed by the link's secret: "Start a new call" from a full call mounts a fresh call. */}
      <Match when={route().name === 'call' ? (route() as { secret: string }) : false} keyed>
        {(r) => (
          <Suspense fallback={<main class="screen center" aria-busy="true"><p>{t('app.opening')}</p></main>}>
            <CallPage secret={r.secret} />
          </Suspense>
        )}
      </Match>
    </Switch>
    </>
  );
}
