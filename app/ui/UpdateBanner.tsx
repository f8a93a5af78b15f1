import { Show } from 'solid-js';
import { inCall } from './app-state';
import { applyUpdate, updateReady } from './pwa';

/** Offered only outside a call; reloading is always the person's choice. */
export function UpdateBanner() {
  return (
    <Show when={updateReady() && !inCall()}>
      <div class="update" role="status">
        <span>A new version is available.</span>
        <button type="button" class="primary" onClick={applyUpdate}>
          Reload
        </button>
      </div>
    </Show>
  );
}
