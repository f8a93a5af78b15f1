/**
 * Video pauses by itself when the link can't carry it, and comes back by
 * itself when it can (issue 14). A pure policy over the sender's bandwidth
 * estimate (getStats: candidate-pair availableOutgoingBitrate), one sample
 * about a second, with the time passed in: it runs under vitest.
 *
 * While paused, only audio is sent, and the congestion controller can't
 * learn that the link got better from audio alone (in "application limited"
 * mode its estimate stays near what is sent). So every few seconds the policy
 * probes: video is switched back on with a low cap (encodings.ts). Raising
 * the allocation while application limited makes Chromium send a probe
 * cluster at once (up to twice the cap), so within a second the estimate
 * says what the link can carry: a probe is judged on its first sample after
 * `probeSettleMs`, and ends at once unless that sample is high. A probe
 * that started before the link recovered sees the old estimate climb only
 * slowly (a few % a second): letting it go on would take longer than the
 * next probe, whose probe cluster tells the truth at once. Short probes also
 * cost the audio little on a link that is really weak (about one second of
 * capped video in four).
 *
 * Not every probe cluster is sent. As far as the lab shows, Chromium probes
 * on an allocation change only while "application limited" (libwebrtc's
 * ProbeController and ALR detector: sending under 65 % of its estimate).
 * Our audio with its redundancy is ~70 kbit/s on the wire, so until the
 * audio-only estimate climbed past ~110 kbit/s after a recovery (a few % a
 * second) probes read only +25-35 % and video came back after 5.6-11 s.
 * So while video is held back, Opus is capped at 20 kbit/s
 * (encodings.ts WEAK_LINK_AUDIO_MAX_BITRATE, ~55 kbit/s on the wire): the
 * first probe after a recovery then reads the link (lab, 2026-12-05: back
 * 5.4-10.4 s after the cap lifted over 4 runs, 3.6-8.6 s over 9 while one
 * high sample was enough; steady concealment on the weak link 0.0-0.7 %).
 * A failed probe whose estimate still rose by `probeAgainRise` is tried
 * again after `probeAgainMs`, once per pause.
 * (Probing every 2 s instead of 3 gave the same times and more concealment.)
 */

export interface WeakLinkOptions {
  /** Below this estimate, sustained for `pauseAfterMs`, video pauses. */
  pauseBelowKbps: number;
  pauseAfterMs: number;
  /** A probe whose samples are all at least this resumes video for good. */
  resumeAtKbps: number;
  /** While paused: how long until the next probe. */
  probeEveryMs: number;
  /** A failed probe whose estimate rose to this many times its start is tried again after probeAgainMs (once). */
  probeAgainRise: number;
  probeAgainMs: number;
  /** A probe's first samples still show the old (audio-only) estimate: don't judge before this. */
  probeSettleMs: number;
  /**
   * Samples in a row at or above resumeAtKbps that end a probe with video
   * back. One is never enough, however high: on a 150 kbit/s link a probe
   * once read 609 kbit/s for one sample (and 117 the next).
   */
  resumeSamples: number;
}

/**
 * Worst case back, the link recovering just after a probe began: that probe
 * fails (settle + 1 sample), the next starts probeEveryMs later and is back
 * within resumeSamples samples (or, if its cluster didn't land, the one
 * probeAgainMs or probeEveryMs after it): 6-9 s with samples a second
 * apart (the issue asks for 10 s, including the other screen hearing of it
 * and frames arriving).
 */
export const WEAK_LINK: WeakLinkOptions = {
  pauseBelowKbps: 150, pauseAfterMs: 1_000, resumeAtKbps: 250, probeEveryMs: 3_000, probeAgainRise: 1.2, probeAgainMs: 1_000, probeSettleMs: 1_000, resumeSamples: 2,
};

export type WeakLinkPhase = 'sending' | 'paused' | 'probing';

export interface WeakLinkState {
  phase: WeakLinkPhase;
  /** sending: since when the estimate has been low (null: it isn't); paused/probing: when that phase began. */
  since: number | null;
  /** probing: samples in a row at or above resumeAtKbps. */
  highs?: number;
  /** probing: the estimate when it began (audio only). */
  fromKbps?: number | null;
  /** paused: the next probe is a quick second try (probeAgainMs); probing: this is that second try. */
  again?: boolean;
}

export interface LinkSample {
  at: number;
  /** The sender's estimate of what the path can carry; null when the browser doesn't say. */
  availableKbps: number | null;
  /** We'd send video if the link allowed it (not audio only, camera on or sharing). */
  wantVideo: boolean;
}

export const initialWeakLink = (): WeakLinkState => ({ phase: 'sending', since: null });

/** Video goes out in 'sending' and 'probing'; the screen says "paused" in 'paused' and 'probing'. */
export const videoPaused = (s: WeakLinkState): boolean => s.phase !== 'sending';
export const encoderOn = (s: WeakLinkState): boolean => s.phase !== 'paused';
/** A probe sends video under a low cap (encodings.ts PROBE_MAX_BITRATE). */
export const probing = (s: WeakLinkState): boolean => s.phase === 'probing';

export function weakLinkStep(s: WeakLinkState, x: LinkSample, o: WeakLinkOptions = WEAK_LINK): WeakLinkState {
  // Nothing to pause (or no estimate to judge by): start over.
  if (!x.wantVideo) return s.phase === 'sending' && s.since === null ? s : initialWeakLink();
  const kbps = x.availableKbps;
  switch (s.phase) {
    case 'sending': {
      if (kbps === null || kbps >= o.pauseBelowKbps) return s.since === null ? s : initialWeakLink();
      const since = s.since ?? x.at;
      if (x.at - since >= o.pauseAfterMs) return { phase: 'paused', since: x.at };
      return s.since === since ? s : { phase: 'sending', since };
    }
    case 'paused':
      return x.at - s.since! >= (s.again ? o.probeAgainMs : o.probeEveryMs) ? { phase: 'probing', since: x.at, fromKbps: kbps, again: s.again } : s;
    case 'probing': {
      if (x.at - s.since! < o.probeSettleMs) return s;
      // Anything short of resumeAtKbps (or no estimate) ends the probe: back to audio only until the next,
      // soon if the estimate rose (the link is getting better), unless this was already the quick retry.
      if (kbps === null || kbps < o.resumeAtKbps) {
        const rose = !s.again && kbps !== null && s.fromKbps != null && kbps >= s.fromKbps * o.probeAgainRise;
        return rose ? { phase: 'paused', since: x.at, again: true } : { phase: 'paused', since: x.at };
      }
      const highs = (s.highs ?? 0) + 1;
      return highs >= o.resumeSamples ? initialWeakLink() : { ...s, highs };
    }
    default: {
      const never: never = s.phase;
      throw new Error(`unknown phase ${String(never)}`);
    }
  }
}
