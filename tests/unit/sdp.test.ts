/** Opus FEC/DTX munging of the description we apply (app/call/sdp.ts). */
import { describe, expect, it } from 'vitest';
import { withOpusFecDtx } from '../../app/call/sdp';

const audio = (fmtp: string | null, eol = '\r\n') =>
  ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', ...(fmtp === null ? [] : [`a=fmtp:111 ${fmtp}`]), 'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111', 'a=rtpmap:9 G722/8000', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', 'a=fmtp:96 x-google-start-bitrate=300', ''].join(eol);

describe('Opus FEC and DTX', () => {
  it("adds usedtx to Chromium's own fmtp line and keeps its other parameters", () => {
    const out = withOpusFecDtx(audio('minptime=10;useinbandfec=1'));
    expect(out).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n');
    // Other codecs' fmtp lines are left alone, and so are the line endings.
    expect(out).toContain('a=fmtp:63 111/111\r\n');
    expect(out).toContain('a=fmtp:96 x-google-start-bitrate=300\r\n');
    expect(out.split('\r\n').length).toBe(audio('x').split('\r\n').length);
  });

  it('overrides a peer that turned them off, and adds the line where there was none', () => {
    expect(withOpusFecDtx(audio('useinbandfec=0; usedtx=0;stereo=1'))).toContain('a=fmtp:111 useinbandfec=1;usedtx=1;stereo=1');
    const added = withOpusFecDtx(audio(null, '\n'));
    expect(added).toContain('a=rtpmap:111 opus/48000/2\na=fmtp:111 useinbandfec=1;usedtx=1\n');
  });

  it('is idempotent and leaves SDP without Opus unchanged', () => {
    const once = withOpusFecDtx(audio('minptime=10;useinbandfec=1'));
    expect(withOpusFecDtx(once)).toBe(once);
    const video = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n';
    expect(withOpusFecDtx(video)).toBe(video);
  });
});
