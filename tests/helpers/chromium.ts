import { existsSync } from 'node:fs';

/** Debian's Chromium; Playwright can't download its own build here. */
export function chromiumPath(): string {
  const path = process.env.CHROME_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`Chromium not found at ${path}: install it (apt-get install -y chromium) or set CHROME_PATH`);
  }
  return path;
}

/** Fake camera/mic/screen and no background traffic (see ../shared/ENVIRONMENT.md). */
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export const FAKE_MEDIA_ARGS = ['--use-fake-device-for-media-stream=device-count=3', '--use-fake-ui-for-media-stream'];

export const CHROMIUM_ARGS = [...BASE_ARGS, ...FAKE_MEDIA_ARGS];
