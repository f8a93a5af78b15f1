import type { CallErrorReason } from '../call/errors';

/** What each failure means for the person, and what they can do about it. */
export const ERROR_MESSAGES: Record<CallErrorReason, { title: string; action: string }> = {
  'insecure-context': {
    title: 'This page isn’t secure, so the camera is blocked.',
    action: 'Open the call link with https:// (or on this device at localhost).',
  },
  'unsupported-browser': {
    title: 'This browser can’t make video calls.',
    action: 'Open the link in a current Chrome, Edge, Firefox or Safari.',
  },
  'permission-denied': {
    title: 'Tandem isn’t allowed to use your camera and microphone.',
    action: 'Allow camera and microphone for this site in your browser’s settings (the icon next to the address), then reload.',
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
    action: 'Ask for the link again and open it exactly as sent.',
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
