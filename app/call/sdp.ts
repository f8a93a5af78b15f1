/**
 * SDP edits, as pure string functions (issue 14: audio first on a weak link).
 *
 * Opus's fmtp parameters in a description say how its author wants to
 * *receive* (RFC 7587 §7: `useinbandfec`, `usedtx` are receiver preferences
 * that the sender should follow). Chromium configures its Opus encoder from
 * the remote description, so adding them to the description we apply from
 * the other side makes *our* sender use in-band FEC (a lost packet is
 * rebuilt from the next one) and DTX (almost nothing sent during silence).
 * Each side does this for its own sender, so it works with peers that
 * don't, and nothing we send on the wire changes.
 */

const OPUS_PARAMS: ReadonlyArray<readonly [string, string]> = [
  ['useinbandfec', '1'],
  ['usedtx', '1'],
];

/** Sets Opus FEC and DTX in every Opus fmtp line (adding the line if the codec has none). Idempotent. */
export function withOpusFecDtx(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const opus = new Set<string>();
  for (const l of lines) {
    const m = /^a=rtpmap:(\d+) opus\/48000/i.exec(l);
    if (m) opus.add(m[1]!);
  }
  if (opus.size === 0) return sdp;
  const withFmtp = new Set<string>();
  const out = lines.map((l) => {
    const m = /^a=fmtp:(\d+) (.*)$/.exec(l);
    if (!m || !opus.has(m[1]!)) return l;
    withFmtp.add(m[1]!);
    const params = m[2]!.split(';').map((p) => p.trim()).filter((p) => p.length > 0);
    const byName = new Map(params.map((p) => [p.split('=')[0]!.toLowerCase(), p] as const));
    for (const [k, v] of OPUS_PARAMS) byName.set(k, `${k}=${v}`);
    return `a=fmtp:${m[1]} ${[...byName.values()].join(';')}`;
  });
  // A codec without an fmtp line gets one right after its rtpmap.
  const result: string[] = [];
  for (const l of out) {
    result.push(l);
    const m = /^a=rtpmap:(\d+) opus\/48000/i.exec(l);
    if (m && !withFmtp.has(m[1]!)) result.push(`a=fmtp:${m[1]} ${OPUS_PARAMS.map(([k, v]) => `${k}=${v}`).join(';')}`);
  }
  return result.join(eol);
}
