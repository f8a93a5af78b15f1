import { lazy, Match, Suspense, Switch } from 'solid-js';
import { Home } from './Home';
import { route } from './router';
import { UpdateBanner } from './UpdateBanner';

// The call screen pulls in the call core (and, from there, mqtt.js) on demand.
const CallPage = lazy(() => import('./CallPage'));

export function App() {
  return (
    <>
    <UpdateBanner />
    <Switch>
      <Match when={route().name === 'home'}>
        <Home />
      </Match>
      <Match when={route().name === 'call'}>
        <Suspense fallback={<main class="screen center" aria-busy="true"><p>Opening the call…</p></main>}>
          <CallPage secret={(route() as { secret: string }).secret} />
        </Suspense>
      </Match>
    </Switch>
    </>
  );
}
