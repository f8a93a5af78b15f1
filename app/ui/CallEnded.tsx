import { SaveContactButton } from './RingPanels';

const duration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h > 0 ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

/** After hanging up a call that connected: how long it was, Rejoin, Save contact, and the way Home (issue 16). */
export function CallEnded(props: { durationMs: number; onRejoin: () => void; onHome: () => void }) {
  return (
    <main class="screen call ended" data-testid="call-ended">
      <section class="notice" role="status">
        <h1>Call ended</h1>
        <p data-testid="call-duration">{duration(props.durationMs)}</p>
        <div class="row">
          <button type="button" class="primary" onClick={props.onRejoin}>
            Rejoin
          </button>
          <button type="button" class="secondary" onClick={props.onHome}>
            Back to start
          </button>
        </div>
      </section>
      <SaveContactButton />
    </main>
  );
}
