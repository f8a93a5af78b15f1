import { createSignal, For, Show } from 'solid-js';
import type { CallErrorReason } from '../call/errors';
import { androidIntentUrl, opensIntents } from './in-app';
import { ERROR_ACTIONS, errorMessage, permissionSteps } from './messages';
import { startNewCall } from './start';
import { t } from '../i18n';

/** A failure, what it means, and the buttons that can fix it (issue 16). */
export function ErrorNotice(props: { reason: CallErrorReason; link: string; onLeave: () => void }) {
  const [copied, setCopied] = createSignal(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.link);
      setCopied(true);
    } catch {
      // Clipboard blocked (some in-app browsers): select the link so a long-press copies it.
      const el = document.getElementById('error-link');
      if (el) getSelection()?.selectAllChildren(el);
    }
  };
  const message = () => errorMessage(props.reason);
  const actions = () => ERROR_ACTIONS[props.reason];
  return (
    <section class="notice" role="alert" data-error={props.reason}>
      <h1>{message().title}</h1>
      <p>{message().action}</p>
      <Show when={props.reason === 'permission-denied'}>
        <p data-testid="permission-steps">{permissionSteps()}</p>
      </Show>
      <Show when={actions().includes('copy-link')}>
        <p class="link" id="error-link">{props.link}</p>
      </Show>
      <div class="row">
        <For each={actions()}>
          {(action) =>
            action === 'retry' ? (
              <button type="button" class="primary" onClick={() => location.reload()}>
                {t('common.tryAgain')}
              </button>
            ) : action === 'copy-link' ? (
              <button type="button" class="primary" onClick={() => void copy()}>
                {copied() ? t('common.copied') : t('common.copyLink')}
              </button>
            ) : (
              <button type="button" class="primary" onClick={startNewCall}>
                {t('common.newCall')}
              </button>
            )
          }
        </For>
        <Show when={props.reason === 'unsupported-browser' && opensIntents() && androidIntentUrl(props.link)}>
          {(href) => (
            <a class="primary button-link" href={href()} data-testid="open-in-browser">
              {t('common.openInBrowser')}
            </a>
          )}
        </Show>
        <button type="button" class="secondary" onClick={props.onLeave}>
          {t('common.back')}
        </button>
      </div>
    </section>
  );
}
