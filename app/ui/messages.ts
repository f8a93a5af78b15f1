import type { CallErrorReason } from '../call/errors';
import { t } from '../i18n';

/**
 * What can fix each failure (issue 16: "Try again" only reloads, which can't
 * fix a bad link, an unsupported browser or a blocked permission).
 * `retry` reloads; `copy-link` takes the link to another browser or device;
 * `new-call` starts a fresh call. Every error screen also has Back to start.
 */
export type ErrorAction = 'retry' | 'copy-link' | 'new-call';

export const ERROR_ACTIONS: Record<CallErrorReason, ErrorAction[]> = {
  'insecure-context': ['copy-link'],
  'unsupported-browser': ['copy-link'],
  'permission-denied': ['retry', 'copy-link'],
  'no-camera': ['retry', 'copy-link'],
  'camera-busy': ['retry'],
  'media-failed': ['retry', 'copy-link'],
  'invalid-link': ['new-call'],
  'signaling-unreachable': ['retry'],
  'connect-timeout': ['retry', 'new-call'],
  'peer-outdated': ['retry'],
  'app-outdated': ['retry'],
  'connection-lost': ['retry', 'new-call'],
};

/**
 * Where this browser keeps the camera permission. The user agent only picks
 * the wording (never what the app does).
 */
export function permissionSteps(ua: string = navigator.userAgent): string {
  if (/Firefox\//.test(ua)) return t('permission.firefox');
  if (/Safari\//.test(ua) && !/Chrome|Chromium|CriOS|Android/.test(ua)) return t('permission.safari');
  return t('permission.chrome');
}

/** What each failure means for the person, and what they can do about it (the words are in app/i18n). */
export function errorMessage(reason: CallErrorReason): { title: string; action: string } {
  return { title: t(`errors.${reason}.title`), action: t(`errors.${reason}.action`) };
}
