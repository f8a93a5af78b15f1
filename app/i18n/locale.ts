/**
 * Which language the app speaks: the first of the browser's preferred
 * languages whose base language we have (de-CH → de), else English.
 * Pure, so it runs under vitest; index.ts applies it to the page.
 */
export const LOCALES = ['en', 'de', 'fr', 'it', 'es'] as const;
export type Locale = (typeof LOCALES)[number];

const isLocale = (s: string): s is Locale => (LOCALES as readonly string[]).includes(s);

export function chooseLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split(/[-_]/)[0] ?? '';
    if (isLocale(base)) return base;
  }
  return 'en';
}

/** None of ours is right-to-left yet; the layout uses logical CSS properties so one can be (issue 15). */
const RTL = new Set(['ar', 'fa', 'he', 'ur']);
export const direction = (locale: string): 'ltr' | 'rtl' => (RTL.has(locale) ? 'rtl' : 'ltr');
