import { createResource, createSignal, Show } from 'solid-js';
import { askToNotifyOnJoin } from './arrival';
import { useCall } from './store';
import { t } from '../i18n';

/** The link to share while alone in the call: copy, share sheet, QR code. */
export function WaitingPanel() {
  const call = useCall();
  const [copied, setCopied] = createSignal(false);
  const [qr] = createResource(async () => {
    // uqr (unjs; Nayuki's QR algorithm): 4 KB gzipped against 9 KB for `qrcode`, for the same SVG.
    const { renderSVG } = await import('uqr');
    return renderSVG(call.link, { ecc: 'M', border: 1 });
  });
  const copy = async () => {
    askToNotifyOnJoin();
    try {
      await navigator.clipboard.writeText(call.link);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      // Clipboard blocked: select the text so a long-press can copy it.
      const el = document.getElementById('call-link');
      if (el) getSelection()?.selectAllChildren(el);
    }
  };
  const canShare = typeof navigator.share === 'function';
  const share = () => {
    askToNotifyOnJoin();
    return navigator.share({ title: t('waiting.shareTitle'), text: t('waiting.shareText'), url: call.link }).catch(() => undefined);
  };
  return (
    <section class="waiting-panel" aria-live="polite">
      <h2>{call.remoteLeft() ? t('waiting.left') : t('waiting.waiting')}</h2>
      <p>{call.remoteLeft() ? t('waiting.leftBody') : t('waiting.send')}</p>
      <p class="link" id="call-link" data-testid="call-link">{call.link}</p>
      {/* On phones the share sheet is the quickest way into a chat: Share comes first and stands out; Copy is the fallback. */}
      <div class="row">
        <Show when={canShare}>
          <button type="button" class="primary" onClick={share}>
            {t('waiting.share')}
          </button>
        </Show>
        <button type="button" class={canShare ? 'secondary' : 'primary'} onClick={copy}>
          {copied() ? t('common.copied') : t('common.copyLink')}
        </button>
      </div>
      {/* eslint-disable-next-line solid/no-innerhtml -- SVG generated locally by the uqr library from our own link */}
      <Show when={qr()}>{(svg) => <div class="qr" role="img" aria-label={t('waiting.qr')} innerHTML={svg()} />}</Show>
    </section>
  );
}
