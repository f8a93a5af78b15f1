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
