import { Match, onCleanup, Switch } from 'solid-js';
import { setInCall } from './app-state';
import { CallScreen } from './CallScreen';
import { PreJoin } from './PreJoin';
import { newSecret } from '../../protocol/index';
import { callContact } from './contacts';
import { LeaveGuard } from './LeaveGuard';
import { navigate } from './router';
import { CallStoreContext, createCallStore } from './store';

export default function CallPage(props: { secret: string }) {
  const store = createCallStore(props.secret, location.origin);
  // An update waits while this page is open; it is offered on Home after the call.
  setInCall(true);
  onCleanup(() => {
    setInCall(false);
    store.dispose();
  });
  // Home at once; the goodbye finishes in the background (dispose waits for it).
  const leave = () => {
    void store.hangup();
    navigate('/');
  };
  const live = () => store.phase() === 'call' && ['waiting', 'connecting', 'connected', 'reconnecting'].includes(store.state());
  return (
    <CallStoreContext.Provider value={store}>
      <LeaveGuard active={live} onLeave={leave} />
      <Switch>
        <Match when={store.phase() === 'loading'}>
          <main class="screen center" data-screen="loading" aria-busy="true">
            <p>Starting your camera…</p>
          </main>
        </Match>
        <Match when={store.phase() === 'prejoin'}>
          <PreJoin />
        </Match>
        <Match when={store.phase() === 'call'}>
          <CallScreen
            onLeave={leave}
            onCallAgain={() => {
              const id = store.ringContact;
              if (id) callContact(id, newSecret());
            }}
          />
        </Match>
      </Switch>
    </CallStoreContext.Provider>
  );
}
