/**
 * The UI's words (issue 15): one catalog per language through
 * @solid-primitives/i18n. English is bundled with Home; another language is
 * a small lazy chunk, loaded by main.tsx before the first render so nobody
 * sees English first. The language is fixed for the page's life, so the
 * dictionary is a plain variable, not a signal.
 * Numbers, plurals, times and durations go through Intl in that language.
 */
import { flatten, resolveTemplate, translator, type Flatten } from '@solid-primitives/i18n';
import { en, type Catalog } from './en';
import { chooseLocale, direction, type Locale } from './locale';

export type { Locale };
type Dict = Flatten<Catalog>;

const LOADERS: Record<Exclude<Locale, 'en'>, () => Promise<{ default: Catalog }>> = {
  de: () => import('./de'),
  fr: () => import('./fr'),
  it: () => import('./it'),
  es: () => import('./es'),
};

let locale: Locale = 'en';
let dict = flatten(en as Catalog);

export const t = translator(() => dict, resolveTemplate);

/** The language in use ('en' until loadLocale). */
export const currentLocale = (): Locale => locale;

/**
 * Picks the language from `navigator.languages`, loads its catalog and sets
 * `<html lang dir>`. A catalog that fails to load (offline before the
 * service worker cached it) leaves English.
 */
export async function loadLocale(preferred: readonly string[] = navigator.languages ?? [navigator.language]): Promise<Locale> {
  const chosen = chooseLocale(preferred);
  if (chosen !== 'en') {
    try {
      dict = flatten((await LOADERS[chosen]()).default);
      locale = chosen;
    } catch (e) {
      console.warn('[tandem] catalog not loaded, English instead', e);
    }
  }
  document.documentElement.lang = locale;
  document.documentElement.dir = direction(locale);
  return locale;
}

type PluralKey = { [K in keyof Dict]: Dict[K] extends { one: string; other: string } ? K : never }[keyof Dict];

let rules: [Locale, Intl.PluralRules] | null = null;
/** A plural: the form Intl.PluralRules picks for `count`, with `{{count}}` formatted in the language. */
export function tp(key: PluralKey, count: number, args: Record<string, string | number> = {}): string {
  if (rules?.[0] !== locale) rules = [locale, new Intl.PluralRules(locale)];
  const forms = t(key) as Record<string, string> & { other: string };
  return resolveTemplate(forms[rules[1].select(count)] ?? forms.other, { ...args, count: num(count) });
}

/** A number in the language's digits and separators (`unit`: an Intl unit such as 'megabyte'). */
export const num = (n: number, options?: Intl.NumberFormatOptions): string => new Intl.NumberFormat(locale, options).format(n);

/** Hours and minutes of a time of day, in the language's clock. */
export const clock = (ms: number): string => new Date(ms).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });

type DurationFormat = new (locale: string, options: { style: 'digital'; hoursDisplay: 'auto' }) => { format(d: { hours: number; minutes: number; seconds: number }): string };

/** A call's length as a clock reads it (1:05, 1:02:03): Intl.DurationFormat where it exists. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = { hours: Math.floor(s / 3600), minutes: Math.floor((s % 3600) / 60), seconds: s % 60 };
  const DF = (Intl as { DurationFormat?: DurationFormat }).DurationFormat;
  if (DF) return new DF(locale, { style: 'digital', hoursDisplay: 'auto' }).format(d);
  const mm = String(d.minutes).padStart(d.hours > 0 ? 2 : 1, '0');
  const ss = String(d.seconds).padStart(2, '0');
  return d.hours > 0 ? `${d.hours}:${mm}:${ss}` : `${mm}:${ss}`;
}
