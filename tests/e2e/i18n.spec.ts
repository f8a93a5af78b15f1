/**
 * Every person's language (issue 15): a browser that prefers Swiss German
 * gets the German UI from the first paint, the German error for a denied
 * camera, the verification words in German, and no English leftovers.
 */
import type { Page } from '@playwright/test';
import { newSecret } from '../../protocol/index';
import de from '../../app/i18n/de';
import { en } from '../../app/i18n/en';
import { expect, expectFramesFlowing, expectState, newContext, test, withChromium } from './fixtures';

const LOCALE = 'de-CH';

/** Leaf path → string of a catalog. */
function leaves(dict: object, path = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(dict)) {
    const p = path ? `${path}.${k}` : k;
    if (typeof v === 'string') out.set(p, v);
    else for (const [kk, vv] of leaves(v as object, p)) out.set(kk, vv);
  }
  return out;
}

/**
 * The pieces of English text (between {{params}}, ≥ 4 characters) that must
 * not show on a German screen: those whose German differs (not "Panda",
 * "Tandem call"'s shared "kbit/s" and the like).
 */
const ENGLISH_PIECES = (() => {
  const german = leaves(de);
  const pieces = new Set<string>();
  for (const [key, value] of leaves(en)) {
    if (value.toLowerCase() === german.get(key)?.toLowerCase()) continue;
    for (const piece of value.split(/\{\{\s*\w+\s*\}\}/)) if (piece.trim().length >= 4) pieces.add(piece.trim());
  }
  return [...pieces];
})();

/** What a person can see or hear from a screen reader: the page's text plus labels and titles. */
const visibleText = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const parts = [document.title, document.body.innerText];
    for (const el of document.querySelectorAll('[aria-label], [title], [alt], [placeholder]')) {
      for (const a of ['aria-label', 'title', 'alt', 'placeholder']) parts.push(el.getAttribute(a) ?? '');
    }
    return parts.join('\n');
  });

async function expectNoEnglish(page: Page, screen: string): Promise<void> {
  const text = await visibleText(page);
  expect(ENGLISH_PIECES.filter((p) => text.includes(p)), `English on the ${screen} screen:\n${text}`).toEqual([]);
}

test('Home and pre-join are in German from the first paint, with no English left', async ({ browser, server }) => {
  const ctx = await newContext(browser, server.url, { locale: LOCALE });
  // The first text the app ever renders, to show there was no English flash before the German catalog.
  await ctx.addInitScript(() => {
    new MutationObserver((_, observer) => {
      const text = document.getElementById('root')?.innerText.trim();
      if (!text) return;
      (window as unknown as { __firstText: string }).__firstText = text;
      observer.disconnect();
    }).observe(document, { subtree: true, childList: true });
  });
  try {
    const page = await ctx.newPage();
    await page.goto('/');
    await expect(page.getByRole('button', { name: de.home.start })).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { __firstText: string }).__firstText)).toContain(de.home.start);
    await expect(page.locator('html')).toHaveAttribute('lang', 'de');
    await expect(page.locator('html')).toHaveAttribute('dir', 'ltr');
    await expect(page.getByText(de.home.tagline)).toBeVisible();
    await expectNoEnglish(page, 'Home');
    // The ring notifications take their language from the worker's own navigator.languages (sw/strings.ts): the page's list.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const worker = ctx.serviceWorkers()[0] ?? (await ctx.waitForEvent('serviceworker'));
    expect(await worker.evaluate(() => navigator.languages[0])).toBe(LOCALE);
    // The German chunk is precached with the shell: offline, the app still opens in German.
    await ctx.setOffline(true);
    await page.reload();
    await expect(page.getByRole('button', { name: de.home.start })).toBeVisible();
    await ctx.setOffline(false);

    await page.goto(`/call#${newSecret()}`);
    await expect(page.locator('[data-screen=prejoin]')).toBeVisible();
    await expect(page.getByRole('heading', { name: de.prejoin.title })).toBeVisible();
    await expect(page.getByRole('button', { name: de.prejoin.join })).toBeEnabled();
    await expect(page.getByRole('group', { name: de.prejoin.choices })).toBeVisible();
    await expectNoEnglish(page, 'pre-join');
  } finally {
    await ctx.close();
  }
});

test('a denied camera explains itself in German', async ({ server }) => {
  // As in errors.spec.ts: without fake UI, headless Chromium answers the permission prompt with "deny".
  await withChromium(['--use-fake-device-for-media-stream'], async (browser) => {
    const ctx = await browser.newContext({ baseURL: server.url, locale: LOCALE });
    const page = await ctx.newPage();
    await page.goto(`/call#${newSecret()}`);
    await expectState(page, 'error');
    const alert = page.getByRole('alert');
    await expect(alert).toContainText(de.errors['permission-denied'].title);
    await expect(alert).toContainText(de.errors['permission-denied'].action);
    await expect(page.getByTestId('permission-steps')).toHaveText(de.permission.chrome);
    await expect(page.getByRole('button', { name: de.common.tryAgain })).toBeVisible();
    await expect(page.getByRole('button', { name: de.common.copyLink })).toBeVisible();
    await expectNoEnglish(page, 'error');
  });
});

test('two German speakers read the verification code in German words, over the same symbols', async ({ browser, server }) => {
  const contexts = await Promise.all([newContext(browser, server.url, { locale: LOCALE }), newContext(browser, server.url, { locale: LOCALE })]);
  try {
    const [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
    await alice!.goto('/');
    await alice!.getByRole('button', { name: de.home.start }).click();
    await expectState(alice!, 'waiting');
    await expect(alice!.getByRole('heading', { name: de.waiting.waiting })).toBeVisible();
    const link = (await alice!.getByTestId('call-link').textContent())!;
    await bob!.goto(link);
    await bob!.getByRole('button', { name: de.prejoin.join }).click();
    await expectState(alice!, 'connected');
    await expectState(bob!, 'connected');
    await expectFramesFlowing(alice!, 5);

    const words = async (page: Page) => {
      await page.getByRole('button', { name: de.quality.button }).click();
      const code = page.getByTestId('verification-code');
      await expect(code).toHaveAttribute('data-code', /\S/);
      const symbols = (await code.getAttribute('data-code'))!.split(' ');
      return { symbols, words: await code.locator('.word').allTextContents() };
    };
    const a = await words(alice!);
    const b = await words(bob!);
    expect(a).toEqual(b);
    expect(a.words).toEqual(a.symbols.map((s) => de.verify.words[s as keyof typeof de.verify.words]));
    await expect(alice!.getByTestId('verification-code')).toHaveAttribute('aria-label', `Verifizierungscode: ${a.words.join(', ')}`);
  } finally {
    for (const c of contexts) await c.close();
  }
});
