/**
 * The catalogs (issue 15): every language has exactly English's keys, the
 * same {{params}} in each message, and 64 distinct verification words; the
 * language choice; plurals and numbers through Intl. The type of each
 * catalog already rejects a missing key at compile time; this also catches
 * what types can't see (params, empty strings, duplicate words).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VERIFICATION_EMOJI, VERIFICATION_WORDS } from '../../protocol/verification';
import de from '../../app/i18n/de';
import { en, type Catalog } from '../../app/i18n/en';
import es from '../../app/i18n/es';
import fr from '../../app/i18n/fr';
import it_ from '../../app/i18n/it';
import { duration, loadLocale, num, t, tp } from '../../app/i18n/index';
import { chooseLocale, LOCALES, type Locale } from '../../app/i18n/locale';
import { PUSH_STRINGS, pushStrings } from '../../sw/strings';

const CATALOGS: Record<Locale, Catalog> = { en, de, fr, it: it_, es };

/** Leaf path → string, e.g. 'errors.no-camera.title'. */
function leaves(dict: object, path = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(dict)) {
    const p = path ? `${path}.${k}` : k;
    if (typeof v === 'string') out.set(p, v);
    else if (v && typeof v === 'object') for (const [kk, vv] of leaves(v, p)) out.set(kk, vv);
    else throw new Error(`${p}: not a string or a group`);
  }
  return out;
}

const params = (s: string): string[] => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!).sort();

describe('catalogs', () => {
  const english = leaves(en);

  it('ship en, de, fr, it and es', () => {
    expect([...LOCALES].sort()).toEqual(['de', 'en', 'es', 'fr', 'it']);
  });

  for (const locale of LOCALES.filter((l) => l !== 'en')) {
    describe(locale, () => {
      const theirs = leaves(CATALOGS[locale]);

      it('has every key of en and no other', () => {
        expect([...theirs.keys()].filter((k) => !english.has(k))).toEqual([]);
        expect([...english.keys()].filter((k) => !theirs.has(k))).toEqual([]);
      });

      it('uses the same {{params}} as en in every message, and no empty one', () => {
        const wrong = [...english].filter(([k, v]) => params(theirs.get(k) ?? '').join() !== params(v).join()).map(([k]) => k);
        expect(wrong).toEqual([]);
        expect([...theirs].filter(([, v]) => v.trim() === '').map(([k]) => k)).toEqual([]);
      });

      it('has 64 distinct verification words, one per symbol', () => {
        const words = Object.values(CATALOGS[locale].verify.words);
        expect(Object.keys(CATALOGS[locale].verify.words)).toEqual([...VERIFICATION_EMOJI]);
        expect(new Set(words.map((w) => w.toLowerCase())).size).toBe(64);
      });
    });
  }

  it("English verification words are the protocol's", () => {
    expect(Object.values(en.verify.words)).toEqual([...VERIFICATION_WORDS]);
  });
});

describe('the service worker’s notification words', () => {
  it('cover exactly the app’s languages, with the same params, and agree with Answer/Decline', () => {
    expect(Object.keys(PUSH_STRINGS).sort()).toEqual([...LOCALES].sort());
    const english = PUSH_STRINGS.en;
    for (const locale of LOCALES) {
      const s = PUSH_STRINGS[locale];
      for (const key of Object.keys(english) as Array<keyof typeof english>) expect(params(s[key]), `${locale}.${key}`).toEqual(params(english[key]));
      expect(s.answer).toBe(CATALOGS[locale].incoming.answer);
      expect(s.decline).toBe(CATALOGS[locale].incoming.decline);
    }
  });

  it('follow the same choice as the page', () => {
    expect(pushStrings(['de-CH', 'en'])).toBe(PUSH_STRINGS.de);
    expect(pushStrings(['pt-BR'])).toBe(PUSH_STRINGS.en);
  });
});

describe('language choice', () => {
  it('takes the base language of the first preferred one we have, else English', () => {
    expect(chooseLocale(['de-CH'])).toBe('de');
    expect(chooseLocale(['pt-BR'])).toBe('en');
    expect(chooseLocale(['xx', 'fr-CA'])).toBe('fr');
    expect(chooseLocale(['it_IT'])).toBe('it');
    expect(chooseLocale(['ES'])).toBe('es');
    expect(chooseLocale(['en-GB', 'de'])).toBe('en');
    expect(chooseLocale([])).toBe('en');
  });
});

describe('plurals and numbers through Intl', () => {
  const html = { lang: '', dir: '' };
  const load = (languages: string[]) => {
    (globalThis as { document?: unknown }).document = { documentElement: html };
    return loadLocale(languages);
  };
  afterEach(async () => {
    await load(['en']);
    delete (globalThis as { document?: unknown }).document;
  });

  it('English: one missed call, then a count; MB with one decimal', async () => {
    await load(['en-US']);
    expect(tp('contacts.missed', 1, { time: '09:15' })).toBe('Missed call at 09:15');
    expect(tp('contacts.missed', 3, { time: '09:15' })).toBe('Missed calls (3) at 09:15');
    expect(num(1234.5, { maximumFractionDigits: 1 })).toBe('1,234.5');
    expect(t('contacts.call', { name: 'Bob' })).toBe('Call Bob');
  });

  it('German: its own words, plurals, separators and <html lang>', async () => {
    expect(await load(['de-CH', 'en'])).toBe('de');
    expect(html).toEqual({ lang: 'de', dir: 'ltr' });
    expect(t('home.start')).toBe('Anruf starten');
    expect(tp('contacts.missed', 1, { time: '09:15' })).toBe('Verpasster Anruf um 09:15');
    expect(tp('contacts.missed', 1200, { time: '09:15' })).toBe('1.200 verpasste Anrufe, zuletzt um 09:15');
    expect(t('quality.kbps', { n: num(1500) })).toBe('1.500 kbit/s');
    expect(t('verify.words.🔧')).toBe('Schraubenschlüssel');
  });

  it('a call’s duration reads like a clock', () => {
    expect(duration(65_000)).toMatch(/^0?1:05$/);
    expect(duration(3_723_000)).toBe('1:02:03');
  });
});
