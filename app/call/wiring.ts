/**
 * What a call adds on top of its session, wired in one place: saved contacts
 * (ContactLink), the video sending policy (audio only, data saver, the
 * weak-link pause), quality stats and the verification code, each turned
 * into view patches. The controller (controller.ts) owns their lifetime.
 */
import type { CallView } from './view';
import { ContactLink } from './contact-link';
import { markJoined } from './rejoin';
import type { CallPorts, MediaControlsPort } from './ports';
import { QualityMonitor, QUALITY_POLL_MS } from './quality';
import { PROBE_POLL_MS } from '../media/degrade';
import { VideoSending } from './sending';
import type { CallSession } from './session';
import { Verifier } from './verifier';
import type { RoomId } from '../../protocol/index';

/** What the wiring needs from the controller. */
export interface SessionHost {
  ports: CallPorts;
  room: RoomId;
  view(): CallView;
  update(patch: Partial<CallView>): void;
  pc(): RTCPeerConnection | null;
  setPc(pc: RTCPeerConnection | null): void;
  controls(): MediaControlsPort | null;
  /** Before we join: someone's retained presence arrived (controller.retainedArrived). */
  peerSeen(): void;
  hangup(): void;
}

export interface SessionFeatures {
  link: ContactLink;
  sending: VideoSending;
  quality: QualityMonitor;
}

export function wireSession(s: CallSession, h: SessionHost): SessionFeatures {
  const p = h.ports;
  const link = new ContactLink(h.room, {
    ports: p,
    send: (body) => s.sendToPeer(body),
    show: (patch) => h.update(patch),
    refused: () => h.hangup(),
  });
  s.on('state', (ctx) => {
    h.update({ state: ctx.state === 'idle' ? 'waiting' : ctx.state, remoteLeft: ctx.remoteLeft, error: ctx.error });
    if (ctx.state === 'full' || ctx.state === 'error') {
      h.update({ phase: 'call' });
      // Nothing needs the camera behind "This call is full" or an error: its light goes out.
      h.controls()?.stop();
    }
    markJoined(h.room, ctx.state, p.clock.now(), p.storage);
    if (ctx.state === 'connecting' || ctx.state === 'connected') link.arrived(ctx.state === 'connected');
    if (ctx.state === 'connected') sending.apply();
  });
  s.on('contact', (m) => link.received(m));
  s.on('remote-stream', (remoteStream) => h.update({ remoteStream }));
  // Audio only, data saver and the weak-link pause: sender parameters, never a renegotiation (issue 14).
  const sending = new VideoSending(h.pc, (state) => s.setMediaState(state), p.log, () => p.clock.now());
  sending.on('paused', (videoPaused) => h.update({ videoPaused }));
  s.on('remote-media', (remoteMedia) => {
    sending.remoteMedia(remoteMedia);
    h.update({ remoteMedia });
  });
  s.on('negotiations', (negotiations) => h.update({ negotiations }));
  s.on('peer-present', () => h.peerSeen());
  s.on('peer-connection', (pc) => {
    h.setPc(pc);
    sending.apply();
    if (!pc) h.update({ quality: null });
  });
  h.controls()?.attach({
    replaceVideoTrack: (track) => s.replaceVideoTrack(track),
    replaceAudioTrack: (track) => s.replaceAudioTrack(track),
    setMediaState: (state) => sending.localMedia(state),
    videoIsSending: async () => {
      const pc = h.pc();
      return pc?.connectionState === 'connected' ? p.videoIsSending(pc) : true;
    },
  });
  const q = new QualityMonitor(p.clock, h.pc, () => h.view().state === 'connected');
  sending.on('probing', (on) => q.pollEvery(on ? PROBE_POLL_MS : QUALITY_POLL_MS));
  q.on('quality', (quality) => {
    sending.sample(quality, p.clock.now());
    h.update({ quality });
  });
  // One direction dead while ICE still says connected: an ICE restart first, then a fresh connection.
  q.on('stalled', (times) => {
    p.log.warn('no media received while connected', { times });
    s.mediaStalled(times > 1);
  });
  const verifier = new Verifier({
    sendCommit: (commit) => s.sendToPeer({ type: 'verify-commit', commit }),
    sendReveal: (nonce) => s.sendToPeer({ type: 'verify-reveal', nonce }),
    random: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
  });
  verifier.on('change', (v) => h.update({ code: v.code, verification: v.status }));
  s.on('bound', (peer) => {
    link.bound(peer);
    verifier.bind(peer);
  });
  s.on('fingerprints', (local, remote) => void verifier.fingerprints(local, remote));
  s.on('verify', (m) => void (m.type === 'verify-commit' ? verifier.onCommit(m.commit) : verifier.onReveal(m.nonce)));
  return { link, sending, quality: q };
}
