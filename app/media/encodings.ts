/**
 * What our RTP senders are told, as pure functions over plain parameter
 * objects (they run under vitest). Every change here is setParameters on an
 * existing sender: nothing is renegotiated (issue 14).
 */

/** Data saver: at most this much video, at most this many lines, at most this frame rate. */
export const DATA_SAVER = { maxBitrate: 150_000, maxHeight: 360, maxFramerate: 15 } as const;

/**
 * While the weak-link policy probes (degrade.ts), video may use at most this:
 * enough for the browser's probe to show ≥ 250 kbit/s on a recovered link,
 * small enough that its bursts don't drown the audio on a weak one.
 */
export const PROBE_MAX_BITRATE = 300_000;

export interface VideoSendInput {
  /** The other side asked for audio only (or we are in audio only ourselves: then there is no track anyway). */
  audioOnly: boolean;
  /** Our data saver, or the other side's. */
  dataSaver: boolean;
  /** The weak-link policy paused our video (degrade.ts). */
  weakLinkPaused: boolean;
  /** The weak-link policy is probing with video under a low cap. */
  probing?: boolean;
  /** We send a screen, not a camera. */
  screen: boolean;
  /** Height of the track we send, if known. */
  height: number | null;
}

export interface VideoSendParams {
  active: boolean;
  maxBitrate: number | undefined;
  maxFramerate: number | undefined;
  scaleResolutionDownBy: number;
  /** A screen keeps its sharpness and drops frames; a camera keeps its frame rate and drops resolution. */
  degradationPreference: RTCDegradationPreference;
}

export function videoSendParams(i: VideoSendInput): VideoSendParams {
  const saver = i.dataSaver;
  const caps = [saver ? DATA_SAVER.maxBitrate : Infinity, i.probing ? PROBE_MAX_BITRATE : Infinity];
  const maxBitrate = Math.min(...caps);
  return {
    active: !i.audioOnly && !i.weakLinkPaused,
    maxBitrate: Number.isFinite(maxBitrate) ? maxBitrate : undefined,
    maxFramerate: saver ? DATA_SAVER.maxFramerate : undefined,
    scaleResolutionDownBy: saver && i.height !== null && i.height > DATA_SAVER.maxHeight ? i.height / DATA_SAVER.maxHeight : 1,
    degradationPreference: i.screen ? 'maintain-resolution' : 'maintain-framerate',
  };
}

type Encoding = RTCRtpEncodingParameters & { priority?: RTCPriorityType; networkPriority?: RTCPriorityType };
type SendParameters = RTCRtpSendParameters & { degradationPreference?: RTCDegradationPreference };

const sameEncoding = (a: Encoding, b: Encoding) =>
  a.active === b.active && a.maxBitrate === b.maxBitrate && a.maxFramerate === b.maxFramerate && (a.scaleResolutionDownBy ?? 1) === (b.scaleResolutionDownBy ?? 1);

/**
 * `params` from getParameters() with our video settings applied to every
 * encoding, or null when nothing would change (so we don't call
 * setParameters, which costs an encoder reconfiguration).
 */
export function withVideoParams(params: SendParameters, p: VideoSendParams): SendParameters | null {
  if (params.encodings.length === 0) return null;
  const encodings = params.encodings.map((e): Encoding => {
    const next: Encoding = { ...e, active: p.active, scaleResolutionDownBy: p.scaleResolutionDownBy };
    if (p.maxBitrate === undefined) delete next.maxBitrate;
    else next.maxBitrate = p.maxBitrate;
    if (p.maxFramerate === undefined) delete next.maxFramerate;
    else next.maxFramerate = p.maxFramerate;
    return next;
  });
  const changed = encodings.some((e, i) => !sameEncoding(e, params.encodings[i]!)) || params.degradationPreference !== p.degradationPreference;
  return changed ? { ...params, encodings, degradationPreference: p.degradationPreference } : null;
}

/**
 * While the weak-link policy holds video back, Opus is capped (redundancy
 * included, ~55 kbit/s on the wire instead of ~70): Chromium only sends the
 * probe cluster that tells a recovered link from a weak one while it sends
 * under 65 % of its estimate (degrade.ts), so a leaner audio stream lets the
 * first probes after a recovery count. 20 kbit/s Opus is still wideband voice.
 */
export const WEAK_LINK_AUDIO_MAX_BITRATE = 20_000;

/**
 * Audio goes first on a weak link: a high sender priority (bitrate share,
 * RFC 8837 DSCP via networkPriority); its bitrate capped while video is
 * held back. Null when nothing would change.
 */
export function withAudioParams(params: SendParameters, videoHeldBack = false): SendParameters | null {
  const encs = params.encodings as Encoding[];
  const cap = videoHeldBack ? WEAK_LINK_AUDIO_MAX_BITRATE : undefined;
  if (encs.length === 0 || encs.every((e) => e.priority === 'high' && e.networkPriority === 'high' && e.maxBitrate === cap)) return null;
  return {
    ...params,
    encodings: encs.map((e) => {
      const next: Encoding = { ...e, priority: 'high', networkPriority: 'high' };
      if (cap === undefined) delete next.maxBitrate;
      else next.maxBitrate = cap;
      return next;
    }),
  };
}
