/**
 * Polls getStats() about once a second while connected, and computes the
 * verification code once per connection, as soon as both descriptions are
 * known (it depends only on the two DTLS fingerprints in them).
 */
import { createSignal, type Accessor } from 'solid-js';
import { sdpFingerprint, verificationCode } from '../../protocol/index';
import { quality, sample, type Quality, type QualitySample, type StatRecord } from '../call/stats';

export function createQuality(pc: Accessor<RTCPeerConnection | null>, connected: Accessor<boolean>) {
  const [current, setCurrent] = createSignal<Quality | null>(null);
  const [code, setCode] = createSignal<string[] | null>(null);
  let prev: QualitySample | null = null;
  let codeFor: RTCPeerConnection | null = null;

  const updateCode = async (p: RTCPeerConnection) => {
    if (codeFor === p || !p.localDescription || !p.remoteDescription) return;
    try {
      setCode(await verificationCode(sdpFingerprint(p.localDescription.sdp), sdpFingerprint(p.remoteDescription.sdp)));
      codeFor = p; // only once it worked: a failure is retried on the next tick
    } catch {
      setCode(null);
    }
  };

  const tick = async () => {
    const p = pc();
    if (p) await updateCode(p);
    if (!p || !connected()) {
      prev = null;
      return;
    }
    const s = sample((await p.getStats()).values() as Iterable<StatRecord>, Date.now());
    setCurrent(quality(prev, s));
    prev = s;
  };
  const timer = setInterval(() => void tick().catch(() => undefined), 1000);
  return { current, code, refresh: tick, stop: () => clearInterval(timer) };
}
