/** Sender rules of issue 14: encodings for audio only / data saver / screen, and the weak-link pause policy. */
import { describe, expect, it } from 'vitest';
import { initialWeakLink, videoPaused, encoderOn, weakLinkStep, WEAK_LINK, type WeakLinkState } from '../../app/media/degrade';
import { DATA_SAVER, PROBE_MAX_BITRATE, videoSendParams, WEAK_LINK_AUDIO_MAX_BITRATE, withAudioParams, withVideoParams } from '../../app/media/encodings';

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

  it('audio gets high priority once, and a lower bitrate while video is held back', () => {
    const p = withAudioParams(params())!;
    expect(p.encodings[0]).toMatchObject({ priority: 'high', networkPriority: 'high' });
    expect(p.encodings[0]).not.toHaveProperty('maxBitrate');
    expect(withAudioParams(p)).toBeNull();
    // Video held back by the weak-link policy: Opus is capped, and uncapped again after.
    const lean = withAudioParams(p, true)!;
    expect(lean.encodings[0]).toMatchObject({ priority: 'high', maxBitrate: WEAK_LINK_AUDIO_MAX_BITRATE });
    expect(withAudioParams(lean, true)).toBeNull();
    expect(withAudioParams(lean, false)!.encodings[0]).not.toHaveProperty('maxBitrate');
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

  it('while paused it probes every 3 s; a probe that sees less than enough ends at once, one that sees enough twice resumes', () => {
    // paused at t=1; probe at t=4; judged at t=5 (settled) and still weak: paused; next probe at t=8, over at t=9; next at t=12.
    const low = run([100, 100, 100, 60, 60, 60, 60, 90, 90, 90, 90, 60, 60]);
    expect(phases(low)).toBe('sppprppprpppr');
    // One high sample (a burst) is not enough; a second one in a row is.
    expect(phases(run([100, 100, 60, 60, 60, 400, 200]))).toBe('sppprrp');
    expect(phases(run([100, 100, 60, 60, 60, 300, 300]))).toBe('sppprrs');
    // However high, one sample is not enough (a 150 kbit/s link once read 609 for one sample, then 117).
    expect(phases(run([100, 100, 60, 60, 60, 900, 117]))).toBe('sppprrp');
    expect(phases(run([100, 100, 60, 60, 60, 900, 600]))).toBe('sppprrs');
    // An estimate still climbing slowly (the probe began before the link recovered) ends the probe: the next one is quicker.
    expect(phases(run([100, 100, 60, 60, 60, 200]))).toBe('sppprp');
    // No estimate during a probe: no proof the link is back.
    expect(phases(run([100, 100, 60, 60, 60, null]))).toBe('sppprp');
  });

  it('a failed probe whose estimate rose is tried again after 1 s, once; a flat one waits the full 3 s', () => {
    // Probe at t=4 from 60; at t=5 it reads 140 (rose, short of 250): again at t=6; that one also rises: the normal 3 s, probe at t=10.
    expect(phases(run([100, 100, 60, 60, 60, 140, 60, 140, 60, 60, 60]))).toBe('sppprprpppr');
    // The second try is what a recovered link needed (its first probe cluster didn't land).
    expect(phases(run([100, 100, 60, 60, 60, 140, 60, 600, 600]))).toBe('sppprprrs');
    // Flat (±20 %): a link that is really weak gets no extra probe.
    expect(phases(run([100, 100, 60, 60, 60, 70, 60, 60, 70]))).toBe('sppprpppr');
  });

  it('comes back within 6 s of the link recovering, wherever in the cycle it recovers (the issue: 10 s, screens included)', () => {
    // As the browser behaves: the estimate only shows the recovered link during video that began after the
    // recovery (the allocation probe at switch-on); video switched on before it sees the old, low estimate.
    // In about one run in three the first probe after the recovery reads only ~1.3× its start (its probe
    // cluster didn't land) and the next one reads the link: then 7.5 s.
    for (const firstLands of [true, false]) {
      for (const backKbps of [300, 1_000]) {
        for (let liftAt = 3.5; liftAt < 20; liftAt += 0.5) {
          let s = initialWeakLink();
          for (let t = 0; t < 3; t++) s = weakLinkStep(s, { at: t * 1000, availableKbps: 100, wantVideo: true });
          let onSince: number | null = null;
          let probesAfterLift = 0;
          let backAt: number | null = null;
          for (let t = 3; t < 40 && backAt === null; t++) {
            const landed = firstLands || probesAfterLift > 1;
            const kbps = encoderOn(s) && onSince !== null && onSince >= liftAt ? (landed ? backKbps : 78) : 60;
            const was = encoderOn(s);
            s = weakLinkStep(s, { at: t * 1000, availableKbps: kbps, wantVideo: true });
            if (!was && encoderOn(s)) {
              onSince = t;
              if (t >= liftAt) probesAfterLift++;
            }
            if (!videoPaused(s)) backAt = t;
          }
          expect(backAt! - liftAt, `lift at ${liftAt} s, ${backKbps} kbit/s, first probe lands: ${firstLands}`).toBeLessThanOrEqual(firstLands ? 6 : 8);
        }
      }
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
