/** Two routes: Home (/) and a call (/call#<secret>). The secret lives in the fragment, which browsers never send to a server. */
import { createSignal } from 'solid-js';

export type Route = { name: 'home' } | { name: 'call'; secret: string };

function read(): Route {
  if (location.pathname === '/call' || location.pathname === '/call/') return { name: 'call', secret: location.hash.slice(1) };
  return { name: 'home' };
}

const [route, setRoute] = createSignal<Route>(read());
/** The same route keeps its object, so a history entry of the same call (the Back guard, LeaveGuard.tsx) doesn't remount it. */
const update = (): void => {
  const next = read();
  const now = route();
  if (next.name !== now.name || (next.name === 'call' && now.name === 'call' && next.secret !== now.secret)) setRoute(next);
};
addEventListener('popstate', update);
addEventListener('hashchange', update);

export { route };

export function navigate(path: string): void {
  history.pushState(null, '', path);
  setRoute(read());
}
