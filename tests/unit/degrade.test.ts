/** Sender rules of issue 14: encodings for audio only / data saver / screen, and the weak-link pause policy. */
import { describe, expect, it } from 'vitest';
import { initialWeakLink, videoPaused, encoderOn, weakLinkStep, WEAK_LINK, type WeakLinkState } from '../../app/media/degrade';
import { DATA_SAVER, PROBE_MAX_BITRATE, videoSendParams, withAudioPriority, withVideoParams } from '../../app/media/encodings';

const params = (encodings: RTCRtpEncodingParameters[] = [{ active: true }]) => ({ transactionId: 't', encodings, headerExtensions: [], rtcp: {}, codecs: [] }) as unknown as RTCRtpSendParameters;

describe('video sender parameters', () => {
  const base = { audioOnly: false, dataSaver: false, weakLinkPaused: false, screen: false, height: 720 };

  it('audio only and a weak link deactivate the encoding; nothing else changes it', () => {
    expect(videoSendParams(base).active).toBe(true);
    expect(videoSendParams({ ...base, audioOnly: true }).active).toBe(false);
    expect(videoSendParams({ ...base, weakLinkPaused: true }).active).toBe(false);
    const off = withVideoParams(params(), videoSendParams({ ...base, audioOnly: true }));
    expect(off?.encodings[0]).toMatchObject({ active: false });
  });

  it('data saver caps bitrate, frame rate and lines; off again removes the caps', () => {
    const p = videoSendParams({ ...base, dataSaver: true });
    expect(p).toMatchObject({ maxBitrate: DATA_SAVER.maxBitrate, maxFramerate: 15, scaleResolutionDownBy: 2 });
    const capped = withVideoParams(params(), p)!;
    expect(capped.encodings[0]).toMatchObject({ maxBitrate: 150_000, maxFramerate: 15, scaleResolutionDownBy: 2 });
    const uncapped = withVideoParams(capped, videoSendParams(base))!;
    expect(uncapped.encodings[0]).not.toHaveProperty('maxBitrate');
    expect(uncapped.encodings[0]).toMatchObject({ scaleResolutionDownBy: 1 });
    // A 240-line camera is not scaled up.
    expect(videoSendParams({ ...base, dataSaver: true, height: 240 }).scaleResolutionDownBy).toBe(1);
  });

  it('a screen keeps resolution, a camera keeps frame rate; unchanged parameters are not set again', () => {
    expect(videoSendParams({ ...base, screen: true }).degradationPreference).toBe('maintain-resolution');
    const cam = withVideoParams(params(), videoSendParams(base))!;
    expect(cam.degradationPreference).toBe('maintain-framerate');
    expect(withVideoParams(cam, videoSendParams(base))).toBeNull();
    expect(withVideoParams(params([]), videoSendParams(base))).toBeNull();
  });

  it('a probe sends video under a low cap, and data saver keeps the lower of the two', () => {
    expect(videoSendParams({ ...base, probing: true })).toMatchObject({ active: true, maxBitrate: PROBE_MAX_BITRATE });
    expect(videoSendParams({ ...base, probing: true, dataSaver: true }).maxBitrate).toBe(DATA_SAVER.maxBitrate);
  });

  it('audio gets high priority once', () => {
    const p = withAudioPriority(params())!;
    expect(p.encodings[0]).toMatchObject({ priority: 'high', networkPriority: 'high' });
    expect(withAudioPriority(p)).toBeNull();
  });
});

describe('weak-link policy', () => {
  /** Feeds one sample a second; returns the phase after each. */
  function run(kbps: Array<number | null>, wantVideo = true, start: WeakLinkState = initialWeakLink()): WeakLinkState[] {
    const out: WeakLinkState[] = [];
    let s = start;
    kbps.forEach((k, i) => {
      s = weakLinkStep(s, { at: i * 1000, availableKbps: k, wantVideo });
      out.push(s);
    });
    return out;
  }
  const phases = (xs: WeakLinkState[]) => xs.map((s) => ({ sending: 's', paused: 'p', probing: 'r' })[s.phase]).join('');

  it('pauses once the estimate stayed low for a second (two samples); a one-sample dip does nothing', () => {
    expect(phases(run([500, 120, 500, 120, 500, 120, 120]))).toBe('ssssssp');
    expect(phases(run([100, 100, 100]))).toBe('spp');
  });

  it('while paused it probes every 4 s; a probe that sees a weak link ends at once, one that sees enough twice resumes', () => {
    // paused at t=1; probe at t=5; settled at t=6 and still weak: paused again; next probe at t=10, over at t=11.
    const low = run([100, 100, 100, 60, 60, 60, 60, 90, 90, 90, 90, 60, 60]);
    expect(phases(low)).toBe('spppprpppprpp');
    // One high sample (a burst) is not enough; a second one in a row is. (Probe at t=5, judged from t=6.)
    const burst = run([100, 100, 60, 60, 60, 60, 400, 200, 60]);
    expect(phases(burst)).toBe('spppprrrp');
    const back = run([100, 100, 60, 60, 60, 60, 300, 300]);
    expect(phases(back)).toBe('spppprrs');
    // A clearly recovered link needs no second sample.
    expect(phases(run([100, 100, 60, 60, 60, 60, 900]))).toBe('spppprs');
    // A probe that neither confirms nor refutes (the estimate still climbing) ends after probeForMs.
    const unsure = run([100, 100, 60, 60, 60, 60, 200, 200, 200, 200, 200]);
    expect(phases(unsure)).toBe('spppprrrrrp');
  });

  it('comes back within 10 s of the link recovering, wherever in the cycle it recovers', () => {
    for (let liftAt = 4; liftAt < 20; liftAt++) {
      let s = initialWeakLink();
      for (let t = 0; t < 3; t++) s = weakLinkStep(s, { at: t * 1000, availableKbps: 100, wantVideo: true });
      let backAt: number | null = null;
      for (let t = 3; t < 40 && backAt === null; t++) {
        // After the lift the estimate is only high while video is really sent (a probe or sending), as in the browser.
        const kbps = t >= liftAt && encoderOn(s) ? 1_000 : 60;
        s = weakLinkStep(s, { at: t * 1000, availableKbps: kbps, wantVideo: true });
        if (!videoPaused(s)) backAt = t;
      }
      expect(backAt! - liftAt).toBeLessThanOrEqual(10 - 1); // + one sampling period
    }
  });

  it('does nothing when there is no video to pause, and no estimate means no judgement', () => {
    expect(phases(run([50, 50, 50, 50, 50], false))).toBe('sssss');
    expect(phases(run([null, null, null, null, null]))).toBe('sssss');
    const paused: WeakLinkState = { phase: 'paused', since: 0 };
    expect(weakLinkStep(paused, { at: 1, availableKbps: 50, wantVideo: false })).toEqual(initialWeakLink());
    expect(WEAK_LINK.pauseBelowKbps).toBe(150);
  });
});
