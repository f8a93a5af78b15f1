/** Our outgoing tracks on an RTCPeerConnection. */

/** The video sender: found via its transceiver, since its track may be null (camera off). */
export function videoSender(pc: RTCPeerConnection): RTCRtpSender | undefined {
  return pc.getTransceivers().find((t) => t.receiver.track.kind === 'video' && t.currentDirection !== 'stopped')?.sender;
}

/**
 * Adds our audio and video to `pc`. Called after a remote offer is applied
 * (addTrack then reuses the offer's transceivers) or on a fresh connection.
 */
export function addLocalTracks(pc: RTCPeerConnection, stream: MediaStream, video: MediaStreamTrack | null): void {
  if (pc.getSenders().some((s) => s.track)) return;
  for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
  preferAudioRedundancy(pc);
  if (video) {
    pc.addTrack(video, stream);
    return;
  }
  // Camera off: still negotiate a video section so turning it on needs no new offer.
  const offered = pc.getTransceivers().find((t) => t.receiver.track.kind === 'video' && !t.sender.track);
  if (offered) {
    offered.direction = 'sendrecv';
    offered.sender.setStreams?.(stream);
  } else {
    pc.addTransceiver('video', { direction: 'sendrecv', streams: [stream] });
  }
}

/** Our offer while it is outstanding (published only in the retained presence while we waited). */
export function pendingOffer(pc: RTCPeerConnection | undefined): { type: 'offer'; sdp: string } | null {
  const d = pc?.localDescription;
  return pc && pc.signalingState === 'have-local-offer' && d ? { type: 'offer', sdp: d.sdp } : null;
}

/**
 * Audio redundancy (RED, RFC 2198; issue 14: sound first on a lossy link):
 * each audio packet also carries the frame before it, so a single lost
 * packet costs no sound at all, where Opus's in-band FEC only rebuilds a
 * lower-quality copy once the encoder has learnt that packets are being
 * lost. It costs the audio bitrate again (~30 kbit/s), which even a
 * 100 kbit/s link has room for. Each side lists `audio/red` first in what
 * it receives; a peer without it (werift, an older browser) answers plain
 * Opus, so nothing else changes.
 */
export function preferAudioRedundancy(pc: RTCPeerConnection): void {
  const codecs = globalThis.RTCRtpReceiver?.getCapabilities?.('audio')?.codecs;
  if (!codecs) return;
  const isRed = (c: RTCRtpCodec) => c.mimeType.toLowerCase() === 'audio/red';
  const red = codecs.filter(isRed);
  if (red.length === 0) return;
  const order = [...red, ...codecs.filter((c) => !isRed(c))];
  for (const t of pc.getTransceivers()) {
    if (t.receiver.track.kind !== 'audio' || typeof t.setCodecPreferences !== 'function') continue;
    try {
      t.setCodecPreferences(order);
    } catch {
      // A browser that refuses this list keeps its own order: plain Opus.
    }
  }
}
