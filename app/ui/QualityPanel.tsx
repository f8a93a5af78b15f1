import { createSignal, For, Show } from 'solid-js';
import { Bars } from './icons';
import type { VerificationStatus } from '../call/verifier';
import { setCallPrefs } from '../lib/settings';
import { SoundOutput } from './SoundOutput';
import { useCall } from './store';
import { num, t } from '../i18n';
import type { VerificationSymbol } from '../i18n/en';

/** The word of a verification symbol, in the person's language ('' for anything else). */
const word = (symbol: string): string => t(`verify.words.${symbol as VerificationSymbol}`) ?? '';
const hint = (status: VerificationStatus): string => t(`verify.${status}`);

/** A small bars button; tapping it opens the details: path, RTT, loss, bitrate and the verification code. */
export function QualityPanel(props: { media: () => HTMLMediaElement | undefined }) {
  const call = useCall();
  const [open, setOpen] = createSignal(false);
  const q = () => call.quality();
  return (
    <div class="quality">
      <button type="button" class="quality-button" aria-label={t('quality.button')} aria-expanded={open()} onClick={() => setOpen(!open())}>
        <Bars bars={q()?.bars ?? 0} />
      </button>
      <Show when={open()}>
        <section class="quality-panel" aria-label={t('quality.details')}>
          <dl>
            <dt>{t('quality.connection')}</dt>
            <dd data-testid="connection-path">{q()?.path ? t(`quality.${q()!.path!}`) : '…'}</dd>
            <dt>{t('quality.rtt')}</dt>
            <dd data-testid="rtt">{q()?.rttMs != null ? num(q()!.rttMs!, { style: 'unit', unit: 'millisecond' }) : '…'}</dd>
            <dt>{t('quality.loss')}</dt>
            <dd>{q() ? num(q()!.lossPct / 100, { style: 'percent', maximumFractionDigits: 1 }) : '…'}</dd>
            <dt>{t('quality.sending')}</dt>
            <dd>{q() ? t('quality.kbps', { n: num(q()!.outKbps) }) : '…'}</dd>
            <dt>{t('quality.used')}</dt>
            <dd data-testid="data-used">{q() ? num(q()!.usedMB, { style: 'unit', unit: 'megabyte', minimumFractionDigits: 1, maximumFractionDigits: 1 }) : '…'}</dd>
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
                {t('quality.dataSaver')}
              </button>
            )}
          </Show>
          <SoundOutput media={props.media} />
          <p class="fine">{call.controls()?.dataSaver() ? t('quality.saverNote') : ''}</p>
          {/* Each symbol with its word: emoji render differently (or as boxes) across platforms, and words can be said aloud. */}
          {/* data-code: the symbols alone, as the other side's screen or a test compares them. */}
          <ol
            class="code"
            data-testid="verification-code"
            data-code={call.code()?.join(' ') ?? ''}
            aria-label={call.code() ? t('verify.label', { words: call.code()!.map(word).join(', ') }) : t('verify.notReady')}
          >
            <For each={call.code() ?? []} fallback={<li>…</li>}>
              {(symbol) => (
                <li>
                  <span class="symbol" aria-hidden="true">{symbol}</span>
                  <span class="word">{word(symbol)}</span>
                </li>
              )}
            </For>
          </ol>
          <p class="fine" data-testid="verification-hint">{hint(call.verification())}</p>
        </section>
      </Show>
    </div>
  );
}
