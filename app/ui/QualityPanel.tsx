import { createSignal, For, Show } from 'solid-js';
import { verificationWord } from '../../protocol/verification';
import { Bars } from './icons';
import type { VerificationStatus } from '../call/verifier';
import { setCallPrefs } from '../lib/settings';
import { SoundOutput } from './SoundOutput';
import { useCall } from './store';

const VERIFY_HINT: Record<VerificationStatus, string> = {
  pending: 'Working out the verification code…',
  ready: 'Read these symbols to each other out loud. If they match, nobody is listening in.',
  changed: 'The code changed since it was first shown. Compare it again: if it doesn’t match, hang up.',
  failed: 'The code couldn’t be confirmed: someone may be interfering with this call. Hang up and start a new call.',
};

/** A small bars button; tapping it opens the details: path, RTT, loss, bitrate and the verification code. */
export function QualityPanel(props: { media: () => HTMLMediaElement | undefined }) {
  const call = useCall();
  const [open, setOpen] = createSignal(false);
  const q = () => call.quality();
  return (
    <div class="quality">
      <button type="button" class="quality-button" aria-label="Call quality and verification" aria-expanded={open()} onClick={() => setOpen(!open())}>
        <Bars bars={q()?.bars ?? 0} />
      </button>
      <Show when={open()}>
        <section class="quality-panel" aria-label="Call details">
          <dl>
            <dt>Connection</dt>
            <dd data-testid="connection-path">{q()?.path ?? '…'}</dd>
            <dt>Round trip</dt>
            <dd data-testid="rtt">{q()?.rttMs != null ? `${q()!.rttMs} ms` : '…'}</dd>
            <dt>Packet loss</dt>
            <dd>{q() ? `${q()!.lossPct} %` : '…'}</dd>
            <dt>Sending</dt>
            <dd>{q() ? `${q()!.outKbps} kbit/s` : '…'}</dd>
            <dt>Data used</dt>
            <dd data-testid="data-used">{q() ? `${q()!.usedMB.toFixed(1)} MB` : '…'}</dd>
          </dl>
          <Show when={call.controls()}>
            {(ctl) => (
              <button
                type="button"
                class="secondary toggle"
                aria-pressed={ctl().dataSaver()}
                onClick={() => {
                  ctl().toggleDataSaver();
                  setCallPrefs({ dataSaver: ctl().dataSaver() });
                }}
              >
                Data saver
              </button>
            )}
          </Show>
          <SoundOutput media={props.media} />
          <p class="fine">{call.controls()?.dataSaver() ? 'Video capped at 150 kbit/s, 360p, both ways.' : ''}</p>
          {/* Each symbol with its word: emoji render differently (or as boxes) across platforms, and words can be said aloud. */}
          {/* data-code: the symbols alone, as the other side's screen or a test compares them. */}
          <ol
            class="code"
            data-testid="verification-code"
            data-code={call.code()?.join(' ') ?? ''}
            aria-label={call.code() ? `Verification code: ${call.code()!.map(verificationWord).join(', ')}` : 'Verification code: not ready yet'}
          >
            <For each={call.code() ?? []} fallback={<li>…</li>}>
              {(symbol) => (
                <li>
                  <span class="symbol" aria-hidden="true">{symbol}</span>
                  <span class="word">{verificationWord(symbol)}</span>
                </li>
              )}
            </For>
          </ol>
          <p class="fine" data-testid="verification-hint">{VERIFY_HINT[call.verification()]}</p>
        </section>
      </Show>
    </div>
  );
}
