/**
 * Debian's Firefox ESR, driven over WebDriver BiDi by puppeteer-core
 * (Playwright can only drive its own Firefox build, which can't be
 * downloaded here). Fake camera and microphone come from two preferences.
 * A missing firefox-esr skips locally and fails in CI (binaries.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { requireBinary } from './binaries';

export const firefoxPath = (): string | null => requireBinary(process.env.FIREFOX_PATH ?? 'firefox-esr', { aptPackage: 'firefox-esr' });

export interface Firefox {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchFirefox(executablePath: string): Promise<Firefox> {
  // Its own profile directory, removed on close: nothing is left behind in /tmp.
  const userDataDir = await mkdtemp(join(tmpdir(), 'tandem-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath,
    headless: true,
    userDataDir,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      // Autoplay of the remote video with sound, as after a user's tap.
      'media.autoplay.default': 0,
      // The app speaks navigator.languages' first language (issue 15); the checks click English names.
      'intl.accept_languages': 'en-US',
    },
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
