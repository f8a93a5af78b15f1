/**
 * Taking a call link out of an in-app browser (issue 15). Inside Instagram,
 * Facebook or LINE the address bar is hidden, so "open it in a browser" needs
 * a way out: on Android an intent:// URL hands the link to the default
 * browser (or the installed Tandem app, which handles its own links).
 * Elsewhere there is Copy link and the app menu's "Open in browser".
 */

/**
 * `intent://<host><path>#<fragment>#Intent;scheme=https;end`: Android's
 * Intent.parseUri splits at the last `#`, so the link's own fragment (the
 * call secret) survives, and `scheme` turns `intent:` back into https.
 */
export function androidIntentUrl(link: string): string | null {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  return `intent://${url.host}${url.pathname}${url.search}${url.hash}#Intent;scheme=${url.protocol.slice(0, -1)};end`;
}

/** Only Android understands intent:// links (the platform, read from the user agent: nothing else tells it). */
export const opensIntents = (ua: string = navigator.userAgent): boolean => /\bAndroid\b/.test(ua);
