/** getStats counters a user would notice as data and sound (issue 14): RTP payload bytes per kind, audio concealment. */
import type { Page } from '@playwright/test';

export interface MediaBytes {
  videoSent: number;
  videoReceived: number;
  audioSent: number;
  audioReceived: number;
  /** inbound audio: concealed and total samples, and the energy of what was heard. */
  concealedSamples: number;
  totalSamplesReceived: number;
  audioEnergy: number;
  framesDecoded: number;
  framesPerSecond: number;
  freezeSeconds: number;
  at: number;
}

export function mediaBytes(page: Page): Promise<MediaBytes> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState !== 'closed');
    const out = { videoSent: 0, videoReceived: 0, audioSent: 0, audioReceived: 0, concealedSamples: 0, totalSamplesReceived: 0, audioEnergy: 0, framesDecoded: 0, framesPerSecond: 0, freezeSeconds: 0, at: performance.now() };
    if (!pc) return out;
    const n = (x: unknown) => (typeof x === 'number' ? x : 0);
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.videoSent += n(s.bytesSent);
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.audioSent += n(s.bytesSent);
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.videoReceived += n(s.bytesReceived);
        out.framesDecoded += n(s.framesDecoded);
        out.framesPerSecond = n(s.framesPerSecond);
        out.freezeSeconds += n(s.totalFreezesDuration);
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.audioReceived += n(s.bytesReceived);
        out.concealedSamples += n(s.concealedSamples);
        out.totalSamplesReceived += n(s.totalSamplesReceived);
        out.audioEnergy += n(s.totalAudioEnergy);
      }
    });
    return out;
  });
}

/** Differences of every counter between two readings (`at` becomes the window in seconds). */
export function delta(a: MediaBytes, b: MediaBytes): MediaBytes {
  const d = {} as MediaBytes;
  for (const k of Object.keys(a) as Array<keyof MediaBytes>) d[k] = b[k] - a[k];
  d.at = (b.at - a.at) / 1000;
  d.framesPerSecond = b.framesPerSecond;
  return d;
}

/** Reads the counters now and again after `ms` (a measurement window, the one kind of wait that is a fixed time). */
export async function measure(page: Page, ms: number): Promise<MediaBytes> {
  const a = await mediaBytes(page);
  await page.waitForTimeout(ms);
  return delta(a, await mediaBytes(page));
}

/** Outgoing video in kbit/s over a window. */
export const videoOutKbps = (d: MediaBytes) => (d.videoSent * 8) / 1000 / d.at;
