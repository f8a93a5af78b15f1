import { createSignal, For, Show } from 'solid-js';
import { newSecret } from '../../protocol/index';
import { isReady, type ContactRecord } from '../contacts/contacts';
import { online } from './app-state';
import { callContact, contactList, contacts } from './contacts';
import { contactStatus, SaveContact } from './SaveContact';
import { clock, t, tp } from '../i18n';

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
    <section class="contacts" aria-label={t('contacts.title')}>
      <Show when={saving()}>{(c) => <SaveContact contact={c()} onDone={() => setSaving(null)} />}</Show>
      <Show when={ready().length > 0}>
        <h2>{t('contacts.title')}</h2>
        <ul>
          <For each={ready()}>
            {(c) => (
              <li data-testid="contact">
                <button type="button" class="primary" disabled={!online()} aria-label={t('contacts.call', { name: c.name })} onClick={() => call(c)}>
                  <span aria-hidden="true">📞</span> {c.name}
                </button>
                <button type="button" class="secondary small" aria-label={t('contacts.removeName', { name: c.name })} onClick={() => void contacts().then((s) => s.remove(c.id))}>
                  {t('contacts.remove')}
                </button>
                <Show when={c.missed.length > 0}>
                  <p class="missed" data-testid="missed-call">
                    {tp('contacts.missed', c.missed.length, { time: clock(c.missed.at(-1)!) })}
                    <button type="button" class="secondary small" disabled={!online()} onClick={() => call(c)}>
                      {t('contacts.callBack')}
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
            {c.theySaved ? (c.theirName ? t('contacts.theySavedYou', { name: c.theirName }) : t('contacts.lastCallSavedYou')) : t('contacts.callAgainQuestion')}{' '}
            <button type="button" class="secondary small" onClick={() => setSaving(c)}>
              {t('common.saveContact')}
            </button>
          </p>
        )}
      </For>
    </section>
  );
}
