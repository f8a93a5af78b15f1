import { createSignal, For, Show } from 'solid-js';
import { newSecret } from '../../protocol/index';
import { isReady, type ContactRecord } from '../contacts/contacts';
import { online } from './app-state';
import { callContact, contactList, contacts } from './contacts';
import { contactStatus, SaveContact } from './SaveContact';

const time = (ms: number): string => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Home's contacts: call, call back a missed call, remove; and the person from a recent call, to save. */
export function ContactList() {
  const [saving, setSaving] = createSignal<ContactRecord | null>(null);
  const ready = () => contactList().filter(isReady);
  const waiting = () => contactList().filter((c) => c.iSaved && !isReady(c));
  // Someone from a call in the last day whom we haven't saved (their offer arrived).
  const unsaved = () => contactList().filter((c) => !c.iSaved && c.theirInbox !== null);
  const call = (c: ContactRecord) => {
    void contacts().then((s) => s.clearMissed(c.id));
    callContact(c.id, newSecret());
  };
  return (
    <section class="contacts" aria-label="Contacts">
      <Show when={saving()}>{(c) => <SaveContact contact={c()} onDone={() => setSaving(null)} />}</Show>
      <Show when={ready().length > 0}>
        <h2>Contacts</h2>
        <ul>
          <For each={ready()}>
            {(c) => (
              <li data-testid="contact">
                <button type="button" class="primary" disabled={!online()} aria-label={`Call ${c.name}`} onClick={() => call(c)}>
                  <span aria-hidden="true">📞</span> {c.name}
                </button>
                <button type="button" class="secondary small" aria-label={`Remove ${c.name}`} onClick={() => void contacts().then((s) => s.remove(c.id))}>
                  Remove
                </button>
                <Show when={c.missed.length > 0}>
                  <p class="missed" data-testid="missed-call">
                    Missed call{c.missed.length > 1 ? `s (${c.missed.length})` : ''} at {time(c.missed.at(-1)!)}
                    <button type="button" class="secondary small" disabled={!online()} onClick={() => call(c)}>
                      Call back
                    </button>
                  </p>
                </Show>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <For each={waiting()}>{(c) => <p class="fine">{contactStatus(c)}</p>}</For>
      <For each={unsaved()}>
        {(c) => (
          <p class="fine">
            {c.theySaved ? `${c.theirName || 'The person from your last call'} saved you.` : 'Want to call the person from your last call again?'}{' '}
            <button type="button" class="secondary small" onClick={() => setSaving(c)}>
              Save contact
            </button>
          </p>
        )}
      </For>
    </section>
  );
}
