/** Links opened inside other apps (issue 15): the way out on Android, and telling a webview's silent refusal from a person's. */
import { describe, expect, it } from 'vitest';
import { NO_PROMPT_MS, refusedWithoutAsking } from '../../app/media/devices';
import { androidIntentUrl, opensIntents } from '../../app/ui/in-app';

/** What Android's Intent.parseUri makes of an intent: URL's data part (the fields we use). */
function androidParse(uri: string): { data: string; params: string[] } {
  const i = uri.lastIndexOf('#');
  const params = uri.slice(i + 1).split(';');
  expect(params[0]).toBe('Intent');
  expect(params.at(-1)).toBe('end');
  const scheme = params.find((p) => p.startsWith('scheme='))!.slice('scheme='.length);
  let data = uri.slice(0, i);
  expect(data.startsWith('intent:')).toBe(true);
  data = `${scheme}:${data.slice('intent:'.length)}`;
  return { data, params };
}

describe('androidIntentUrl', () => {
  it('hands Android the very link, call secret (the fragment) included', () => {
    const link = 'https://tandem.example/call#Zm9vYmFyLWJhei1xdXV4LTEyMzQ1Ng';
    const intent = androidIntentUrl(link)!;
    expect(intent.startsWith('intent://tandem.example/call#')).toBe(true);
    expect(androidParse(intent).data).toBe(link);
  });

  it('keeps a port and an http origin (a test server, a LAN address)', () => {
    const link = 'http://127.0.0.1:4173/call#abc';
    expect(androidParse(androidIntentUrl(link)!).data).toBe(link);
  });

  it('refuses what is not a web link', () => {
    expect(androidIntentUrl('javascript:alert(1)')).toBeNull();
    expect(androidIntentUrl('not a url')).toBeNull();
  });

  it('is offered on Android only', () => {
    expect(opensIntents('Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A; wv) AppleWebKit/537.36 Instagram 300.0')).toBe(true);
    expect(opensIntents('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 FBAN/FBIOS')).toBe(false);
    expect(opensIntents('Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0')).toBe(false);
  });
});

describe('refusedWithoutAsking', () => {
  const denied = (message = 'Permission denied') => new DOMException(message, 'NotAllowedError');
  it('a webview: refused at once while the site permission still says "prompt" (or cannot be asked)', () => {
    expect(refusedWithoutAsking(denied(), 3, 'prompt')).toBe(true);
    expect(refusedWithoutAsking(denied(), 3, 'unknown')).toBe(true);
  });
  it('a person: refused after a moment (they tapped Block), or remembered as denied', () => {
    expect(refusedWithoutAsking(denied(), NO_PROMPT_MS + 400, 'prompt')).toBe(false);
    expect(refusedWithoutAsking(denied(), 3, 'denied')).toBe(false);
  });
  it("Chrome's automatic block after repeated dismissals is the person's choice too", () => {
    expect(refusedWithoutAsking(denied('Permission dismissed'), 3, 'prompt')).toBe(false);
  });
  it('not implemented at all: the browser cannot call', () => {
    expect(refusedWithoutAsking(new DOMException('Not supported', 'NotSupportedError'), 3, 'prompt')).toBe(true);
    expect(refusedWithoutAsking(new TypeError('getUserMedia is not implemented'), 3, 'prompt')).toBe(true);
  });
  it('other failures keep their own meaning', () => {
    expect(refusedWithoutAsking(new DOMException('busy', 'NotReadableError'), 3, 'prompt')).toBe(false);
    expect(refusedWithoutAsking(new DOMException('none', 'NotFoundError'), 3, 'prompt')).toBe(false);
  });
});
