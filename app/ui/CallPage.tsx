import { createEffect, createSignal, Match, onCleanup, Show, Switch } from 'solid-js';
import { markAutojoin } from '../call/rejoin';
import { CallEnded } from './CallEnded';
import { setInCall } from './app-state';
import { CallScreen } from './CallScreen';
import { PreJoin } from './PreJoin';
import { newSecret } from '../../protocol/index';
import { callContact } from './contacts';
import { LeaveGuard } from './LeaveGuard';
import { navigate } from './router';
import { CallStoreContext, createCallStore } from './store';
import { t } from '../i18n';

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
  // Hang up after a call that connected: the "Call ended" screen (duration, Rejoin, Save contact); else Home.
  let connectedAt: number | null = null;
  createEffect(() => {
    if (store.state() === 'connected' && connectedAt === null) connectedAt = Date.now();
  });
  const [endedAfter, setEndedAfter] = createSignal<number | null>(null);
  const hangUp = () => {
    if (connectedAt === null) return leave();
    void store.hangup();
    setEndedAfter(Date.now() - connectedAt);
  };
  const rejoin = () => {
    markAutojoin(props.secret);
    location.reload();
  };
  const live = () => store.phase() === 'call' && ['waiting', 'connecting', 'connected', 'reconnecting'].includes(store.state());
  return (
    <CallStoreContext.Provider value={store}>
      <LeaveGuard active={live} onLeave={leave} />
      <Show when={endedAfter() === null} fallback={<CallEnded durationMs={endedAfter()!} onRejoin={rejoin} onHome={() => navigate('/')} />}>
      <Switch>
        <Match when={store.phase() === 'loading'}>
          <main class="screen center" data-screen="loading" aria-busy="true">
            <p>{t('app.startingCamera')}</p>
          </main>
        </Match>
        <Match when={store.phase() === 'prejoin'}>
          <PreJoin />
        </Match>
        <Match when={store.phase() === 'call'}>
          <CallScreen
            onLeave={leave}
            onHangUp={hangUp}
            onCallAgain={() => {
              const id = store.ringContact;
              if (id) callContact(id, newSecret());
            }}
          />
        </Match>
      </Switch>
      </Show>
    </CallStoreContext.Provider>
  );
}
