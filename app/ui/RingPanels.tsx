import { createSignal, Show } from 'solid-js';
import type { RingStatus } from '../call/ports';
import { contactList } from './contacts';
import { contactStatus, SaveContact } from './SaveContact';
import { useCall } from './store';

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
      <h2>Calling {call.ringName()}…</h2>
      <p>Their phone is ringing.</p>
      <div class="row">
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

/** The ring ended without an answer: say why, and offer to try again. */
export function RingEnded(props: { onAgain: () => void; onLeave: () => void }) {
  const call = useCall();
  const title = () => {
    const name = call.ringName() ?? 'They';
    if (call.ring() === 'busy') return `${name} is in another call`;
    if (call.ring() === 'no-answer') return `${name} didn't answer`;
    return `${name} can't talk now`;
  };
  return (
    <section class="notice" role="status">
      <h1>{title()}</h1>
      <p>{call.ring() === 'no-answer' ? 'They’ll see a missed call from you.' : 'Try again later, or send them a message.'}</p>
      <div class="row">
        <button type="button" class="primary" onClick={props.onAgain}>
          Call again
        </button>
        <button type="button" class="secondary" onClick={props.onLeave}>
          Back to start
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
              Save contact
            </button>
          </Show>
        </div>
      )}
    </Show>
  );
}
