import { Show } from 'solid-js';
import { inCall } from './app-state';
import { applyUpdate, updateReady } from './pwa';
import { t } from '../i18n';

/** Offered only outside a call; reloading is always the person's choice. */
export function UpdateBanner() {
  return (
    <Show when={updateReady() && !inCall()}>
      <div class="update" role="status">
        <span>{t('update.available')}</span>
        <button type="button" class="primary" onClick={applyUpdate}>
          {t('update.reload')}
        </button>
      </div>
    </Show>
  );
}
