import type { CallErrorReason } from '../call/errors';

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
  if (/Firefox\//.test(ua)) return 'In Firefox: tap the camera icon (or the lock) left of the address, clear "Blocked" for the camera and microphone, then tap Try again.';
  if (/Safari\//.test(ua) && !/Chrome|Chromium|CriOS|Android/.test(ua)) return 'In Safari: tap "aA" (or Safari > Settings for This Website), set Camera and Microphone to Allow, then tap Try again.';
  return 'In Chrome: tap the icon left of the address, then Permissions (or Site settings), allow Camera and Microphone, then tap Try again.';
}

/** What each failure means for the person, and what they can do about it. */
export const ERROR_MESSAGES: Record<CallErrorReason, { title: string; action: string }> = {
  'insecure-context': {
    title: 'This page isn’t secure, so the camera is blocked.',
    action: 'Open the call link with https:// (or on this device at localhost).',
  },
  'unsupported-browser': {
    title: 'This browser can’t make video calls.',
    action: 'Copy the link and open it in a current Chrome, Edge, Firefox or Safari. Inside an app like WhatsApp or Instagram, its menu (⋮ or …) has "Open in browser".',
  },
  'permission-denied': {
    title: 'Tandem isn’t allowed to use your camera and microphone.',
    action: 'Allow camera and microphone for this site in your browser’s settings (the icon next to the address).',
  },
  'no-camera': {
    title: 'No camera or microphone was found.',
    action: 'Connect a camera and microphone, or open the link on your phone.',
  },
  'camera-busy': {
    title: 'Your camera is being used by another app.',
    action: 'Close other apps or tabs that use the camera, then reload.',
  },
  'media-failed': {
    title: 'The camera couldn’t be started.',
    action: 'Reload the page. If it keeps happening, restart the browser.',
  },
  'invalid-link': {
    title: 'This call link is incomplete.',
    action: 'Ask for the link again and open it exactly as sent, or start a new call and send your own link.',
  },
  'signaling-unreachable': {
    title: 'Can’t reach the Tandem server.',
    action: 'Check your internet connection and try again.',
  },
  'connect-timeout': {
    title: 'Couldn’t connect to the other person.',
    action: 'One of your networks may block calls. Try again, or switch between Wi-Fi and mobile data.',
  },
  'peer-outdated': {
    title: 'The other person’s Tandem is out of date.',
    action: 'Ask them to reload the page (or close and reopen the app), then try again.',
  },
  'app-outdated': {
    title: 'Your Tandem is out of date.',
    action: 'Tap Try again to reload and update, then join again.',
  },
  'connection-lost': {
    title: 'Connection lost.',
    action: 'Try again: the link still works.',
  },
};
