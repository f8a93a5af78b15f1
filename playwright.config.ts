import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from './tests/helpers/chromium';

// One worker: the machines have 2 cores and each call runs two Chromium
// contexts plus the server. Tests wait on states and frame counters, so the
// timeouts below are ceilings, not sleeps.
export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    // The app speaks the browser's language (issue 15) and the specs find controls by their English names;
    // tests/e2e/i18n.spec.ts sets its own locale.
    locale: 'en-US',
    launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
    trace: 'off',
  },
});
