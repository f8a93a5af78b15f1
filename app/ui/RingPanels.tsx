import { createSignal, Show } from 'solid-js';
import type { RingStatus } from '../call/ports';
import { contactList } from './contacts';
import { contactStatus, SaveContact } from './SaveContact';
import { useCall } from './store';
import { t } from '../i18n';

/** What the call screen's `data-state` says while a call to a contact rings or after it was refused. */
export function ringState(ring: RingStatus | null, state: string): string | null {
  if (ring === 'ringing' && state === 'waiting') return 'ringing';
  if (ring === 'declined' || ring === 'busy') return 'declined';
  if (ring === 'no-answer') return 'no-answer';
  return null;
}

/** "Calling <name>…" with Cancel, instead of the link to share. */
export function Ringing(props: { onCancel: () => void }) {
  const call = useCall();
  return (
    <section class="waiting-panel" aria-live="polite">
      <h2>{t('ring.calling', { name: call.ringName() ?? '' })}</h2>
      <p>{t('ring.ringing')}</p>
      <div class="row">
        <button type="button" class="secondary" onClick={props.onCancel}>
          {t('ring.cancel')}
        </button>
      </div>
    </section>
  );
}

/** The ring ended without an answer: say why, and offer to try again. */
export function RingEnded(props: { onAgain: () => void; onLeave: () => void }) {
  const call = useCall();
  const title = () => {
    const name = call.ringName() ?? t('common.they');
    if (call.ring() === 'busy') return t('ring.busy', { name });
    if (call.ring() === 'no-answer') return t('ring.noAnswer', { name });
    return t('ring.declined', { name });
  };
  return (
    <section class="notice" role="status">
      <h1>{title()}</h1>
      <p>{call.ring() === 'no-answer' ? t('ring.missedNote') : t('ring.tryLater')}</p>
      <div class="row">
        <button type="button" class="primary" onClick={props.onAgain}>
          {t('ring.callAgain')}
        </button>
        <button type="button" class="secondary" onClick={props.onLeave}>
          {t('common.back')}
        </button>
      </div>
    </section>
  );
}

/** During a link call (and after the other person left): save them, and see where that stands. */
export function SaveContactButton() {
  const call = useCall();
  const [open, setOpen] = createSignal(false);
  const contact = () => contactList().find((c) => c.id === call.contactId());
  return (
    <Show when={contact()}>
      {(c) => (
        <div class="save-contact">
          <Show when={open()}>
            <SaveContact contact={c()} onDone={() => setOpen(false)} />
          </Show>
          <Show when={!c().iSaved} fallback={<p class="chip" role="status">{contactStatus(c())}</p>}>
            <Show when={c().theySaved}>
              <p class="chip" role="status">{contactStatus(c())}</p>
            </Show>
            <button type="button" class="secondary chip" onClick={() => setOpen(true)}>
              {t('common.saveContact')}
            </button>
          </Show>
        </div>
      )}
    </Show>
  );
}
