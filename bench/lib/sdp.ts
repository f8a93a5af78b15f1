/**
 * Offer/answer-sized SDP and ICE candidates that pass protocol/'s checks
 * (one sha-256 fingerprint, no candidate lines in the SDP), for load that
 * weighs what a browser's signaling weighs: an offer from Chromium with
 * audio + video is 4–6 KB.
 */
import type { WireCandidate } from '../../protocol/index';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');

export function fakeSdp(chars: number): string {
  const lines = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    'c=IN IP4 0.0.0.0',
    'a=ice-ufrag:bnch',
    'a=ice-pwd:benchmarkbenchmarkbenchm',
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    'a=setup:actpass',
    'a=mid:0',
  ];
  let text = `${lines.join('\r\n')}\r\n`;
  for (let pt = 96; text.length < chars; pt++) text += `a=rtpmap:${pt % 128} VP8/90000\r\na=rtcp-fb:${pt % 128} nack pli\r\n`;
  return text;
}

export function fakeCandidate(i: number): WireCandidate {
  return {
    candidate: `candidate:${1_000_000 + i} 1 udp 2122260223 192.168.${i >> 8}.${(i & 255) + 1} ${50_000 + i} typ host generation 0 ufrag bnch network-id 1`,
    sdpMid: '0',
    sdpMLineIndex: 0,
    usernameFragment: 'bnch',
  };
}
