/** Two routes: Home (/) and a call (/call#<secret>). The secret lives in the fragment, which browsers never send to a server. */
import { createSignal } from 'solid-js';

export type Route = { name: 'home' } | { name: 'call'; secret: string };

function read(): Route {
  if (location.pathname === '/call' || location.pathname === '/call/') return { name: 'call', secret: location.hash.slice(1) };
  return { name: 'home' };
}

const [route, setRoute] = createSignal<Route>(read());
addEventListener('popstate', () => setRoute(read()));
addEventListener('hashchange', () => setRoute(read()));

export { route };

export function navigate(path: string): void {
  history.pushState(null, '', path);
  setRoute(read());
}
