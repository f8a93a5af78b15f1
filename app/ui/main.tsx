import { render } from 'solid-js/web';
import { loadLocale } from '../i18n';
import { App } from './App';
import { watchConnectivity } from './app-state';
import { loadContacts, takeAnswerFromUrl } from './contacts';
import { listenForInstallPrompt } from './install';
import { registerServiceWorker } from './pwa';
import './styles.css';

takeAnswerFromUrl();
listenForInstallPrompt();
watchConnectivity();
const root = document.getElementById('root');
// The person's language first (a small chunk unless English), so the first paint is already in it.
void loadLocale().finally(() => {
  if (root) render(() => <App />, root);
});
// After first paint: contacts (IndexedDB; mqtt.js only if there are any) and the service worker.
loadContacts();
// The shell must not wait for the service worker.
void registerServiceWorker().catch((e: unknown) => console.warn('[tandem] service worker not registered', e));
