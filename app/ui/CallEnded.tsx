import { SaveContactButton } from './RingPanels';
import { duration, t } from '../i18n';

/** After hanging up a call that connected: how long it was, Rejoin, Save contact, and the way Home (issue 16). */
export function CallEnded(props: { durationMs: number; onRejoin: () => void; onHome: () => void }) {
  return (
    <main class="screen call ended" data-testid="call-ended">
      <section class="notice" role="status">
        <h1>{t('ended.title')}</h1>
        <p data-testid="call-duration">{duration(props.durationMs)}</p>
        <div class="row">
          <button type="button" class="primary" onClick={props.onRejoin}>
            {t('ended.rejoin')}
          </button>
          <button type="button" class="secondary" onClick={props.onHome}>
            {t('common.back')}
          </button>
        </div>
      </section>
      <SaveContactButton />
    </main>
  );
}
