/**
 * The words of the ring notifications, in the person's language (issue 15).
 * The worker chooses it the way the page does (app/i18n/locale.ts): the first
 * of `navigator.languages` whose base language is here, else English; a
 * worker's navigator has the same list as the page's. sw/ imports nothing
 * from app/, so these few strings live here; tests/unit/i18n.test.ts checks
 * that they cover the app's languages and agree with its Answer and Decline.
 */
export interface PushStrings {
  /** `{{name}}`: the contact's name. */
  calling: string;
  body: string;
  answer: string;
  decline: string;
  /** `{{name}}`: the contact's name. */
  missed: string;
  missedBody: string;
}

export const PUSH_STRINGS = {
  en: { calling: '{{name}} is calling', body: 'Tandem video call', answer: 'Answer', decline: 'Decline', missed: 'Missed call from {{name}}', missedBody: 'Open Tandem to call back.' },
  de: { calling: '{{name}} ruft an', body: 'Tandem-Videoanruf', answer: 'Annehmen', decline: 'Ablehnen', missed: 'Verpasster Anruf von {{name}}', missedBody: 'Öffne Tandem, um zurückzurufen.' },
  fr: { calling: '{{name}} vous appelle', body: 'Appel vidéo Tandem', answer: 'Répondre', decline: 'Refuser', missed: 'Appel manqué de {{name}}', missedBody: 'Ouvrez Tandem pour rappeler.' },
  it: { calling: '{{name}} ti sta chiamando', body: 'Videochiamata Tandem', answer: 'Rispondi', decline: 'Rifiuta', missed: 'Chiamata persa da {{name}}', missedBody: 'Apri Tandem per richiamare.' },
  es: { calling: '{{name}} te está llamando', body: 'Videollamada de Tandem', answer: 'Contestar', decline: 'Rechazar', missed: 'Llamada perdida de {{name}}', missedBody: 'Abre Tandem para devolver la llamada.' },
} satisfies Record<string, PushStrings>;

export type PushLanguage = keyof typeof PUSH_STRINGS;

export function pushStrings(languages: readonly string[]): PushStrings {
  for (const tag of languages) {
    const base = tag.toLowerCase().split(/[-_]/)[0] ?? '';
    if (Object.hasOwn(PUSH_STRINGS, base)) return PUSH_STRINGS[base as PushLanguage];
  }
  return PUSH_STRINGS.en;
}

export const withName = (template: string, name: string): string => template.replace('{{name}}', name);
