import { Show } from 'solid-js';
import { online } from './app-state';
import { ContactList } from './ContactList';
import { canInstall, install, showIosHint } from './install';
import { RelayToggle } from './RelayToggle';
import { startNewCall } from './start';
import { t } from '../i18n';

export function Home() {
  return (
    <main class="screen home" data-screen="home">
      <div class="brand">
        <svg class="logo" viewBox="0 0 64 64" aria-hidden="true">
          <circle cx="24" cy="32" r="16" fill="#5eead4" />
          <circle cx="40" cy="32" r="16" fill="#0f766e" fill-opacity="0.85" />
        </svg>
        <h1>Tandem</h1>
        <p class="tagline">{t('home.tagline')}</p>
      </div>
      <Show when={!online()}>
        <p class="offline" role="status" id="offline-reason">
          {t('home.offline')}
        </p>
      </Show>
      <button type="button" class="primary big" disabled={!online()} aria-describedby={online() ? undefined : 'offline-reason'} onClick={startNewCall}>
        {t('home.start')}
      </button>
      <ContactList />
      <RelayToggle />
      <p class="fine">{t('home.linkNote')}</p>
      <Show when={canInstall()}>
        <button type="button" class="secondary" onClick={() => void install()}>
          {t('home.install')}
        </button>
      </Show>
      <Show when={showIosHint()}>
        <p class="fine" data-testid="ios-install-hint">
          {t('home.iosHint')}
        </p>
      </Show>
    </main>
  );
}
