/**
 * Call quality from getStats(), as pure functions over plain stat records so
 * they run under vitest. A sample is taken about once a second; quality is
 * the difference between two samples.
 */
export type StatRecord = Record<string, unknown> & { id: string; type: string };

export type Path = 'Direct' | 'Relayed';

export interface QualitySample {
  at: number;
  bytesSent: number;
  packetsReceived: number;
  packetsLost: number;
  framesEncoded: number;
  rttMs: number | null;
  path: Path | null;
  /** The sender's bandwidth estimate for this path (Chromium, Safari; Firefox has none). */
  availableOutKbps: number | null;
  /** Everything this connection sent and received, headers included (transport stats). */
  dataBytes: number;
}

export interface Quality {
  rttMs: number | null;
  lossPct: number;
  outKbps: number;
  path: Path | null;
  /** 0–4 bars. */
  bars: number;
  availableOutKbps: number | null;
  /** Data this call has used, both directions, every connection it had (MB = 10^6 bytes). */
  usedMB: number;
}

const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

function selectedPair(byId: Map<string, StatRecord>): StatRecord | undefined {
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') return byId.get(s.selectedCandidatePairId);
  }
  // Firefox marks the pair itself.
  for (const s of byId.values()) if (s.type === 'candidate-pair' && s.selected === true) return s;
  for (const s of byId.values()) if (s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded') return s;
  return undefined;
}

export function sample(report: Iterable<StatRecord>, at: number): QualitySample {
  const byId = new Map<string, StatRecord>();
  for (const s of report) byId.set(s.id, s);
  const out: QualitySample = { at, bytesSent: 0, packetsReceived: 0, packetsLost: 0, framesEncoded: 0, rttMs: null, path: null, availableOutKbps: null, dataBytes: 0 };
  for (const s of byId.values()) {
    if (s.type === 'outbound-rtp') {
      out.bytesSent += num(s.bytesSent);
      if (s.kind === 'video') out.framesEncoded += num(s.framesEncoded);
    }
    if (s.type === 'transport') out.dataBytes += num(s.bytesSent) + num(s.bytesReceived);
    if (s.type === 'inbound-rtp') {
      out.packetsReceived += num(s.packetsReceived);
      out.packetsLost += Math.max(0, num(s.packetsLost));
    }
  }
  const pair = selectedPair(byId);
  if (pair) {
    if (typeof pair.currentRoundTripTime === 'number') out.rttMs = Math.round(pair.currentRoundTripTime * 1000);
    if (typeof pair.availableOutgoingBitrate === 'number') out.availableOutKbps = Math.round(pair.availableOutgoingBitrate / 1000);
    const local = byId.get(String(pair.localCandidateId));
    const remote = byId.get(String(pair.remoteCandidateId));
    if (local || remote) out.path = local?.candidateType === 'relay' || remote?.candidateType === 'relay' ? 'Relayed' : 'Direct';
  }
  return out;
}

/**
 * Data used across the call's connections: each RTCPeerConnection counts
 * from zero, and a rebuild (or an ICE restart's pause in sampling) must
 * neither lose nor double-count bytes.
 */
export interface Usage {
  conn: unknown;
  bytes: number;
  total: number;
}

export function addUsage(u: Usage, conn: unknown, bytes: number): Usage {
  const delta = u.conn === conn ? Math.max(0, bytes - u.bytes) : bytes;
  return { conn, bytes, total: u.total + delta };
}

export function quality(prev: QualitySample | null, cur: QualitySample, usedBytes = 0): Quality {
  const seconds = prev ? Math.max(0.001, (cur.at - prev.at) / 1000) : 1;
  const received = prev ? cur.packetsReceived - prev.packetsReceived : cur.packetsReceived;
  const lost = prev ? cur.packetsLost - prev.packetsLost : cur.packetsLost;
  const lossPct = received + lost > 0 ? Math.max(0, (100 * lost) / (received + lost)) : 0;
  const outKbps = prev ? Math.max(0, ((cur.bytesSent - prev.bytesSent) * 8) / 1000 / seconds) : 0;
  const rtt = cur.rttMs;
  let bars = 4;
  if (rtt !== null && rtt > 150) bars--;
  if (rtt !== null && rtt > 400) bars--;
  if (lossPct > 2) bars--;
  if (lossPct > 10) bars--;
  return {
    rttMs: rtt, lossPct: Math.round(lossPct * 10) / 10, outKbps: Math.round(outKbps), path: cur.path, bars: Math.max(0, bars),
    availableOutKbps: cur.availableOutKbps, usedMB: Math.round(usedBytes / 10_000) / 100,
  };
}

/** Resolves true once the video sender has encoded `frames` more frames, false after `timeoutMs`. */
export async function videoIsSending(pc: RTCPeerConnection, frames = 3, timeoutMs = 2500, pollMs = 150): Promise<boolean> {
  const read = async () => sample((await pc.getStats()).values() as Iterable<StatRecord>, Date.now()).framesEncoded;
  const start = await read();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, pollMs));
    if ((await read()) >= start + frames) return true;
  }
  return false;
}
