import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { Portal } from 'solid-js/web';
import { t } from '../i18n';

/**
 * Back (the Android gesture, the browser button) during a call asks first,
 * the way native call apps keep you in the call (issue 16). A history entry
 * for the same URL sits on top while the call runs; Back pops it, and the
 * person chooses: stay (the entry goes back on top) or leave.
 */
export function LeaveGuard(props: { active: () => boolean; onLeave: () => void }) {
  const [asking, setAsking] = createSignal(false);
  const GUARD = { tandemGuard: true };
  const guard = () => history.pushState(GUARD, '', location.href);
  onMount(() => {
    if ((history.state as { tandemGuard?: boolean } | null)?.tandemGuard !== true) guard();
    const onPop = () => {
      if (location.pathname !== '/call') return;
      if (!props.active()) {
        // Nothing to protect (an error, a full call): Back goes where it was going.
        history.back();
        return;
      }
      guard();
      setAsking(true);
    };
    addEventListener('popstate', onPop);
    onCleanup(() => removeEventListener('popstate', onPop));
  });
  return (
    <Show when={asking()}>
      <Portal>
        <div class="sheet" role="alertdialog" aria-labelledby="leave-title" data-testid="leave-call">
          <h2 id="leave-title">{t('leave.title')}</h2>
          <p class="fine">{t('leave.body')}</p>
          <div class="row">
            <button type="button" class="secondary" onClick={() => setAsking(false)}>
              {t('leave.stay')}
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => {
                setAsking(false);
                props.onLeave();
              }}
            >
              {t('leave.leave')}
            </button>
          </div>
        </div>
      </Portal>
    </Show>
  );
}
