/**
 * The English catalog: every word the UI shows, and the source of truth for
 * the other languages. `Catalog` is its shape with plain strings, so de.ts,
 * fr.ts, it.ts and es.ts fail to compile when a key is missing or extra.
 * `{{name}}` is a template parameter (resolveTemplate); a `{ one, other }`
 * pair is a plural, picked with Intl.PluralRules (see index.ts `tp`).
 * Keep button labels short: they sit side by side on a phone.
 */
import type { CallErrorReason } from '../call/errors';
import { VERIFICATION_EMOJI, VERIFICATION_WORDS } from '../../protocol/verification';

export type VerificationSymbol = (typeof VERIFICATION_EMOJI)[number];

/** English words are the protocol's own list (protocol/README.md documents them). */
const words = Object.fromEntries(VERIFICATION_EMOJI.map((e, i) => [e, VERIFICATION_WORDS[i]])) as Record<VerificationSymbol, string>;

export const en = {
  common: {
    openInBrowser: 'Open in browser',
    back: 'Back to start',
    tryAgain: 'Try again',
    copyLink: 'Copy link',
    copied: 'Copied',
    newCall: 'Start a new call',
    saveContact: 'Save contact',
    audioOnly: 'Audio only',
    cameraOff: 'Camera off',
    yourCameraOff: 'Your camera is off',
    they: 'They',
  },
  app: {
    opening: 'Opening the call…',
    startingCamera: 'Starting your camera…',
  },
  home: {
    tagline: 'Quick, private video calls for two. No account, no app store.',
    start: 'Start a call',
    offline: 'You’re offline. Calls need an internet connection; Start will work again as soon as you’re back online.',
    linkNote: 'You get a link to share. Only people with the link can join, and only one of them.',
    install: 'Install app',
    iosHint: 'To install: tap Share, then “Add to Home Screen”.',
  },
  contacts: {
    title: 'Contacts',
    call: 'Call {{name}}',
    remove: 'Remove',
    removeName: 'Remove {{name}}',
    missed: { one: 'Missed call at {{time}}', other: 'Missed calls ({{count}}) at {{time}}' },
    callBack: 'Call back',
    theySavedYou: '{{name}} saved you.',
    lastCallSavedYou: 'The person from your last call saved you.',
    callAgainQuestion: 'Want to call the person from your last call again?',
    statusReady: '{{name}} is saved. Call them from Home any time.',
    statusWaiting: 'Saved. Waiting for {{name}} to save you too.',
    statusTheySaved: '{{name}} saved you as a contact.',
  },
  save: {
    theySaved: '{{name}} saved you. Save them too, and you can ring each other from Home.',
    theirName: 'Their name',
    yourName: 'Your name on their phone',
    notNow: 'Not now',
    save: 'Save',
  },
  prejoin: {
    othersWaiting: 'The other person is waiting. They’ll see and hear you as soon as you join.',
    nobodyYet: 'The other person isn’t here yet. Join, and you’ll wait for them.',
    yourCamera: 'Your camera',
    title: 'Ready to join?',
    body: 'The other person will see and hear you as soon as you join.',
    offline: 'You’re offline. Calls need an internet connection; this page will be ready as soon as you’re back online.',
    join: 'Join call',
    joining: 'Joining…',
    choices: 'How to join',
    microphone: 'Microphone',
    camera: 'Camera',
  },
  relay: {
    on: 'Relay only: on (your IP stays hidden)',
    off: 'Relay only: off',
    missing: 'Relay only is on, but this server has no relay server, so calls connect directly and the other person can see your IP address.',
    turnOff: 'Turn Relay only off',
  },
  call: {
    connected: 'Connected',
    fullTitle: 'This call is full',
    fullBody: 'Two people are already in this call. If it was yours, start a new one and send the new link.',
    otherPerson: 'The other person',
    you: 'You',
    audioOnlyLabel: 'Audio only: no video in either direction',
    pausedLabel: 'Their video is paused: weak connection',
    paused: 'Video paused: weak connection',
    cameraOffLabel: 'The other person turned their camera off',
    theyMuted: 'They muted their mic',
    youMuted: 'You’re muted',
    connecting: 'Connecting…',
    reconnecting: 'Reconnecting…',
    serverReconnecting: 'Reconnecting to server…',
    verifyFailed: 'Security check failed: someone may be interfering with this call. Hang up and start a new call.',
    verifyChanged: 'The security code changed. Open the call details and compare it again.',
    compared: 'We compared it',
    tapToUnmute: 'Tap to unmute',
  },
  controls: {
    label: 'Call controls',
    mute: 'Mute microphone',
    unmute: 'Unmute microphone',
    cameraOn: 'Camera on',
    cameraOff: 'Camera off',
    audioOnly: 'Audio only',
    switchCamera: 'Switch camera',
    shareScreen: 'Share screen',
    stopSharing: 'Stop sharing',
    pip: 'Picture in picture',
    hangUp: 'Hang up',
  },
  waiting: {
    waiting: 'Waiting for the other person',
    send: 'Send them this link. It works for one person.',
    left: 'The other person left',
    leftBody: 'Wait for them to come back, or send the link to someone else.',
    share: 'Share link',
    qr: 'QR code of the call link',
    shareTitle: 'Tandem call',
    shareText: 'Join my video call',
  },
  ring: {
    calling: 'Calling {{name}}…',
    ringing: 'Their phone is ringing.',
    cancel: 'Cancel',
    busy: '{{name}} is in another call',
    noAnswer: "{{name}} didn't answer",
    declined: "{{name}} can't talk now",
    missedNote: 'They’ll see a missed call from you.',
    tryLater: 'Try again later, or send them a message.',
    callAgain: 'Call again',
  },
  incoming: {
    what: 'is calling you on Tandem',
    decline: 'Decline',
    answer: 'Answer',
  },
  ended: {
    title: 'Call ended',
    rejoin: 'Rejoin',
  },
  leave: {
    title: 'Leave the call?',
    body: 'The other person will see that you left.',
    stay: 'Stay',
    leave: 'Leave',
  },
  update: {
    available: 'A new version is available.',
    reload: 'Reload',
  },
  arrival: {
    tabTitle: '● They joined · Tandem',
    title: 'The other person joined',
    body: 'Your Tandem call has started.',
  },
  quality: {
    button: 'Call quality and verification',
    details: 'Call details',
    connection: 'Connection',
    Direct: 'Direct',
    Relayed: 'Relayed',
    rtt: 'Round trip',
    loss: 'Packet loss',
    sending: 'Sending',
    kbps: '{{n}} kbit/s',
    used: 'Data used',
    dataSaver: 'Data saver',
    saverNote: 'Video capped at 150 kbit/s, 360p, both ways.',
  },
  sound: {
    output: 'Sound output',
    choose: 'Choose sound output',
    headset: 'Microphone and sound (headset)',
    default: 'Default',
    outputN: 'Output {{n}}',
    microphoneN: 'Microphone {{n}}',
  },
  verify: {
    label: 'Verification code: {{words}}',
    notReady: 'Verification code: not ready yet',
    pending: 'Working out the verification code…',
    ready: 'Read these symbols to each other out loud. If they match, nobody is listening in.',
    changed: 'The code changed since it was first shown. Compare it again: if it doesn’t match, hang up.',
    failed: 'The code couldn’t be confirmed: someone may be interfering with this call. Hang up and start a new call.',
    words,
  },
  permission: {
    firefox: 'In Firefox: tap the camera icon (or the lock) left of the address, clear "Blocked" for the camera and microphone, then tap Try again.',
    safari: 'In Safari: tap "aA" (or Safari > Settings for This Website), set Camera and Microphone to Allow, then tap Try again.',
    chrome: 'In Chrome: tap the icon left of the address, then Permissions (or Site settings), allow Camera and Microphone, then tap Try again.',
  },
  /** What each failure means for the person, and what they can do about it (CallErrorReason). */
  errors: {
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
  } satisfies Record<CallErrorReason, { title: string; action: string }>,
};

/** A catalog's shape: en's keys, any strings. */
type Widen<T> = T extends string ? string : { readonly [K in keyof T]: Widen<T[K]> };
export type Catalog = Widen<typeof en>;
