import { createSignal, Show } from 'solid-js';
import { Portal } from 'solid-js/web';
import type { ContactRecord } from '../contacts/contacts';
import { myName, setMyName } from '../lib/settings';
import { contacts } from './contacts';
import { t } from '../i18n';

/**
 * "Save contact": what to call them (their own name as a suggestion) and
 * what to be called on their phone. The contact works once both saved.
 * Asks for notifications here, the moment they're for: so this contact can
 * ring this phone while the app is closed.
 */
export function SaveContact(props: { contact: ContactRecord; onDone: () => void }) {
  const [name, setName] = createSignal(props.contact.name || props.contact.theirName);
  const [mine, setMine] = createSignal(myName());
  const [saving, setSaving] = createSignal(false);
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    setSaving(true);
    setMyName(mine());
    if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
      await Notification.requestPermission().catch(() => 'denied');
    }
    await (await contacts()).save(props.contact.id, name());
    props.onDone();
  };
  // In a portal: above the call's controls, whatever panel opened it.
  return (
    <Portal>
    {/* A dialog, not a stray form outside every landmark (axe: region); a <form> can't take the role itself. */}
    <div role="dialog" aria-labelledby="save-contact-title">
    <form class="sheet" data-testid="save-contact" onSubmit={(e) => void submit(e)}>
      <h2 id="save-contact-title">{t('common.saveContact')}</h2>
      <Show when={props.contact.theySaved}>
        <p class="fine">{t('save.theySaved', { name: props.contact.theirName || t('common.they') })}</p>
      </Show>
      <label>
        {t('save.theirName')}
        <input name="name" value={name()} maxLength={64} required autocomplete="off" onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        {t('save.yourName')}
        <input name="mine" value={mine()} maxLength={64} autocomplete="nickname" onInput={(e) => setMine(e.currentTarget.value)} />
      </label>
      <div class="row">
        <button type="button" class="secondary" onClick={() => props.onDone()}>
          {t('save.notNow')}
        </button>
        <button type="submit" class="primary" disabled={saving() || name().trim() === ''}>
          {t('save.save')}
        </button>
      </div>
    </form>
    </div>
    </Portal>
  );
}

/** One line about where a contact stands, for the call screen and Home. */
export function contactStatus(c: ContactRecord): string {
  if (c.iSaved && c.theySaved) return t('contacts.statusReady', { name: c.name });
  if (c.iSaved) return t('contacts.statusWaiting', { name: c.name });
  if (c.theySaved) return t('contacts.statusTheySaved', { name: c.theirName || t('common.they') });
  return '';
}
