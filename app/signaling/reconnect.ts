/**
 * Reconnect timing as a pure policy (livekit ReconnectPolicy): the caller
 * passes what it knows, the policy answers a delay in ms, or null to give up.
 */
export interface ReconnectContext {
  /** 0 for the first retry after a loss. */
  attempt: number;
}

export interface ReconnectPolicy {
  nextDelay(context: ReconnectContext): number | null;
}

/**
 * 0 s, then ~0.25 s doubling (0.5, 1, 2, 4 s) up to a 7 s cap, each with
 * ±20 % jitter so a broker restart doesn't bring every client back in the same
 * millisecond. The early steps stay short because a redeploy is back within a
 * couple of seconds, and the product promises reconnection within 3 s of that.
 */
export function createReconnectPolicy(random: () => number = Math.random, capMs = 7_000): ReconnectPolicy {
  return {
    nextDelay({ attempt }) {
      if (attempt <= 0) return 0;
      const base = Math.min(capMs, 250 * 2 ** (attempt - 1));
      const jitter = 1 + (random() * 0.4 - 0.2);
      return Math.round(Math.min(capMs, base * jitter));
    },
  };
}

export const defaultReconnectPolicy = createReconnectPolicy();
