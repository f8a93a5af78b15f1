/**
 * Every failure a person can meet has a machine-readable reason; the UI maps
 * each one to a sentence that says what to do (ui/messages.ts).
 */
export type CallErrorReason =
  | 'insecure-context'
  | 'unsupported-browser'
  | 'permission-denied'
  | 'no-camera'
  | 'camera-busy'
  | 'media-failed'
  | 'invalid-link'
  | 'signaling-unreachable'
  | 'connect-timeout'
  | 'connection-lost'
  /** The other person's app speaks an older protocol version (they must reload). */
  | 'peer-outdated'
  /** Ours is the older one (reload to update). */
  | 'app-outdated';

export class CallError extends Error {
  private constructor(
    readonly reason: CallErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CallError';
  }

  static insecureContext = () => new CallError('insecure-context', 'camera needs a secure (https) page');
  static unsupportedBrowser = (what: string) => new CallError('unsupported-browser', `browser lacks ${what}`);
  static permissionDenied = (cause?: unknown) => new CallError('permission-denied', 'camera/microphone permission denied', { cause });
  static noCamera = (cause?: unknown) => new CallError('no-camera', 'no camera or microphone found', { cause });
  static cameraBusy = (cause?: unknown) => new CallError('camera-busy', 'camera is in use by another app', { cause });
  static mediaFailed = (cause?: unknown) => new CallError('media-failed', 'could not start camera', { cause });
  static invalidLink = () => new CallError('invalid-link', 'call link is incomplete or damaged');
  static versionMismatch = (theirs: number, ours: number) =>
    theirs < ours ? new CallError('peer-outdated', `the other app speaks protocol ${theirs}`) : new CallError('app-outdated', `the other app speaks protocol ${theirs}`);
  static signalingUnreachable = (cause?: unknown) => new CallError('signaling-unreachable', 'cannot reach the call server', { cause });
}

export const isCallError = (e: unknown): e is CallError => e instanceof CallError;
