import { Show } from 'solid-js';
import { online } from './app-state';
import { ContactList } from './ContactList';
import { canInstall, install, showIosHint } from './install';
import { RelayToggle } from './RelayToggle';
import { startNewCall } from './start';

export function Home() {
  return (
    <main class="screen home" data-screen="home">
      <div class="brand">
        <svg class="logo" viewBox="0 0 64 64" aria-hidden="true">
          <circle cx="24" cy="32" r="16" fill="#5eead4" />
          <circle cx="40" cy="32" r="16" fill="#0f766e" fill-opacity="0.85" />
        </svg>
        <h1>Tandem</h1>
        <p class="tagline">Quick, private video calls for two. No account, no app store.</p>
      </div>
      <Show when={!online()}>
        <p class="offline" role="status" id="offline-reason">
          You’re offline. Calls need an internet connection; Start will work again as soon as you’re back online.
        </p>
      </Show>
      <button type="button" class="primary big" disabled={!online()} aria-describedby={online() ? undefined : 'offline-reason'} onClick={startNewCall}>
        Start a call
      </button>
      <ContactList />
      <RelayToggle />
      <p class="fine">You get a link to share. Only people with the link can join, and only one of them.</p>
      <Show when={canInstall()}>
        <button type="button" class="secondary" onClick={() => void install()}>
          Install app
        </button>
      </Show>
      <Show when={showIosHint()}>
        <p class="fine" data-testid="ios-install-hint">
          To install: tap Share, then “Add to Home Screen”.
        </p>
      </Show>
    </main>
  );
}
