/**
 * Retry timing as pure policies (livekit ReconnectPolicy): the caller passes
 * what it knows, the policy answers a delay in ms, or null to give up.
 */
export interface ReconnectContext {
  /** 0 for the first retry after a loss. */
  attempt: number;
  /** Time since the connection was lost. */
  elapsedMs: number;
}

export interface ReconnectPolicy {
  nextDelay(context: ReconnectContext): number | null;
}

export interface ReconnectPolicyOptions {
  random?: () => number;
  /** The longest wait between two attempts: signaling is back at most this long after the server is. */
  capMs?: number;
  /** Stop trying after this long without a connection; the person gets a message and a Try again button. */
  giveUpAfterMs?: number;
}

/**
 * 0 s, then 250 ms doubling up to a 1.8 s cap, each "equal jitter" (a random
 * point in the upper half of the step).
 *
 * Why a low cap: the product promises signaling back within 2 s of the
 * server's return, for outages up to a minute (a redeploy, a broker restart).
 * A 7 s cap met that only for the first few seconds of an outage. A refused
 * connection attempt costs a phone one TCP handshake (well under 1 KB), so
 * ~35 attempts in a 60 s outage are cheap; with no network at all they fail
 * locally and cost nothing.
 *
 * Why jitter: after a restart every client comes back inside one cap-wide
 * window (0.9-1.8 s) spread evenly, instead of all in the same millisecond;
 * the server's global connection cap (503) absorbs the rest.
 */
export function createReconnectPolicy({ random = Math.random, capMs = 1_800, giveUpAfterMs = 15 * 60_000 }: ReconnectPolicyOptions = {}): ReconnectPolicy {
  return {
    nextDelay({ attempt, elapsedMs }) {
      if (elapsedMs >= giveUpAfterMs) return null;
      if (attempt <= 0) return 0;
      const step = Math.min(capMs, 250 * 2 ** (attempt - 1));
      return Math.round(step * (0.5 + random() * 0.5));
    },
  };
}

export const defaultReconnectPolicy = createReconnectPolicy();

/** How often the "are we back online?" probe asks the server while offline: 1 s, 2 s, then every 3 s; an `online` event (where the platform fires it) short-cuts the wait. */
export const defaultProbePolicy: ReconnectPolicy = {
  nextDelay: ({ attempt }) => Math.min(3_000, 1_000 * (attempt + 1)),
};
