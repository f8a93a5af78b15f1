/** Call quality from getStats() records, as Chromium and Firefox report them; and the camera errors a person can meet. */
import { describe, expect, it } from 'vitest';
import { addUsage, quality, sample, videoIsSending, type StatRecord } from '../../app/call/stats';
import { mediaError } from '../../app/media/devices';
import { CallError } from '../../app/call/errors';
import { rxStep, STALL_MS } from '../../app/call/quality';

const chromium = (bytesSent: number, received: number, lost: number, frames: number, relay = false): StatRecord[] => [
  { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
  { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.042 },
  { id: 'L', type: 'local-candidate', candidateType: relay ? 'relay' : 'host' },
  { id: 'R', type: 'remote-candidate', candidateType: 'srflx' },
  { id: 'OA', type: 'outbound-rtp', kind: 'audio', bytesSent: bytesSent / 4 },
  { id: 'OV', type: 'outbound-rtp', kind: 'video', bytesSent: (bytesSent * 3) / 4, framesEncoded: frames },
  { id: 'IV', type: 'inbound-rtp', kind: 'video', packetsReceived: received, packetsLost: lost },
];

describe('call quality', () => {
  it('reads path, round trip, bitrate and loss between two samples (Chromium: the transport names the pair)', () => {
    const a = sample(chromium(0, 0, 0, 0), 0);
    const b = sample(chromium(125_000, 980, 20, 30), 1_000);
    expect(b).toMatchObject({ rttMs: 42, path: 'Direct', framesEncoded: 30 });
    expect(quality(a, b)).toEqual({ rttMs: 42, lossPct: 2, outKbps: 1000, path: 'Direct', bars: 4, availableOutKbps: null, usedMB: 0 });
    expect(sample(chromium(0, 0, 0, 0, true), 0).path).toBe('Relayed');
  });

  it('reads the bandwidth estimate and the bytes on the wire; data used survives a new connection without double counting', () => {
    const report = (sent: number, received: number): StatRecord[] => [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P', bytesSent: sent, bytesReceived: received },
      { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', availableOutgoingBitrate: 123_456 },
    ];
    expect(sample(report(1_000, 500), 0)).toMatchObject({ availableOutKbps: 123, dataBytes: 1_500 });
    const pc1 = {};
    const pc2 = {};
    let u = addUsage({ conn: null, bytes: 0, total: 0 }, pc1, 1_000_000);
    u = addUsage(u, pc1, 1_500_000); // the same connection: only what is new
    u = addUsage(u, pc1, 1_500_000); // sampled again after a pause (reconnecting): nothing new
    u = addUsage(u, pc2, 250_000); // a rebuilt connection counts from zero
    expect(u.total).toBe(1_750_000);
    expect(quality(null, sample(report(0, 0), 0), u.total).usedMB).toBe(1.75);
  });

  it('finds the selected pair the Firefox way, and takes bars away for delay and loss', () => {
    const firefox: StatRecord[] = [
      { id: 'P', type: 'candidate-pair', selected: true, localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.5 },
      { id: 'L', type: 'local-candidate', candidateType: 'relay' },
      { id: 'I', type: 'inbound-rtp', packetsReceived: 80, packetsLost: 20 },
    ];
    const s = sample(firefox, 0);
    expect(s).toMatchObject({ rttMs: 500, path: 'Relayed' });
    expect(quality(null, s)).toMatchObject({ lossPct: 20, bars: 0 });
    // A nominated, succeeded pair is the last resort; garbage numbers count as zero.
    const nominated = sample([{ id: 'P', type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.2 }, { id: 'O', type: 'outbound-rtp', bytesSent: Number.NaN }], 0);
    expect(nominated).toMatchObject({ rttMs: 200, bytesSent: 0, path: null });
    expect(quality(null, nominated).bars).toBe(3);
  });

  it('tells whether the video sender really encodes frames (a camera that opens but sends nothing)', async () => {
    let frames = 0;
    const pc = { getStats: async () => new Map(chromium(0, 0, 0, (frames += 2)).map((r) => [r.id, r])) } as unknown as RTCPeerConnection;
    expect(await videoIsSending(pc, 3, 1_000, 5)).toBe(true);
    const stuck = { getStats: async () => new Map(chromium(0, 0, 0, 7).map((r) => [r.id, r])) } as unknown as RTCPeerConnection;
    expect(await videoIsSending(stuck, 3, 50, 5)).toBe(false);
  });
});

describe('camera and microphone errors', () => {
  it('maps every getUserMedia rejection to a reason the UI can explain', () => {
    const reasons = Object.fromEntries(
      ['NotAllowedError', 'SecurityError', 'NotFoundError', 'OverconstrainedError', 'NotReadableError', 'AbortError', 'TypeError'].map((name) => [name, mediaError(new DOMException('x', name)).reason]),
    );
    expect(reasons).toEqual({
      NotAllowedError: 'permission-denied',
      SecurityError: 'permission-denied',
      NotFoundError: 'no-camera',
      OverconstrainedError: 'no-camera',
      NotReadableError: 'camera-busy',
      AbortError: 'camera-busy',
      TypeError: 'media-failed',
    });
    expect(mediaError(null).reason).toBe('media-failed');
    const e = CallError.signalingUnreachable(new Error('boom'));
    expect([e.name, e.reason, (e.cause as Error).message]).toEqual(['CallError', 'signaling-unreachable', 'boom']);
    expect([CallError.insecureContext().reason, CallError.unsupportedBrowser('WebRTC').reason, CallError.invalidLink().reason]).toEqual(['insecure-context', 'unsupported-browser', 'invalid-link']);
  });
});

describe('rxStep: a connected call that stops receiving', () => {
  const pc = {};
  it('reports once STALL_MS passes without a new packet, then again after each further STALL_MS', () => {
    let w = rxStep(null, pc, 10, 0).watch;
    for (const at of [1_000, 2_000, 3_000]) {
      const r = rxStep(w, pc, 10, at);
      expect(r.stalled).toBe(false);
      w = r.watch;
    }
    const first = rxStep(w, pc, 10, STALL_MS);
    expect(first.stalled).toBe(true);
    expect(rxStep(first.watch, pc, 10, STALL_MS + 1_000).stalled).toBe(false);
    const second = rxStep(first.watch, pc, 10, 2 * STALL_MS);
    expect(second.stalled).toBe(true);
    expect([first.watch.stalls, second.watch.stalls]).toEqual([1, 2]);
    expect(rxStep(second.watch, pc, 11, 2 * STALL_MS + 1_000).watch.stalls).toBe(0);
  });
  it('packets arriving, a new connection, or nothing received yet: no stall', () => {
    const w = rxStep(null, pc, 10, 0).watch;
    expect(rxStep(w, pc, 11, STALL_MS).stalled).toBe(false);
    expect(rxStep(w, {}, 10, STALL_MS).stalled).toBe(false);
    const none = rxStep(null, pc, 0, 0).watch;
    expect(rxStep(none, pc, 0, 10 * STALL_MS).stalled).toBe(false);
  });
});
