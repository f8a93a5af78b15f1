import { createSignal, Show } from 'solid-js';
import { Bars } from './icons';
import { useCall } from './store';

/** A small bars button; tapping it opens the details: path, RTT, loss, bitrate and the verification code. */
export function QualityPanel() {
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
          </dl>
          <p class="code" data-testid="verification-code" aria-label="Verification code">
            {call.code()?.join(' ') ?? '…'}
          </p>
          <p class="fine">Read these symbols to each other out loud. If they match, nobody is listening in.</p>
        </section>
      </Show>
    </div>
  );
}
