/**
 * ICE servers for the call: STUN from /config.json, plus short-lived TURN
 * credentials from /api/ice once we are admitted to the room (the server
 * gives them only to a client that is in a call). They are re-fetched
 * before they expire and applied to the live connection, so an ICE restart
 * late in a long call still has a valid relay.
 *
 * The first fetch leaves with the room's SUBSCRIBE (`wait=1`): the server
 * answers the moment it admits us, a round trip sooner than asking after
 * the SUBACK.
 */
import type { Clock } from '../call/ports';
import { realClock } from '../call/ports';

export interface IceProvider {
  current(): RTCIceServer[];
  /**
   * Fetches fresh servers; keeps the old ones on failure (e.g. a broker that
   * isn't ours). `awaitAdmission`: sent with the SUBSCRIBE, the server holds it
   * until we are admitted. True once the server has answered what it has for
   * us (servers, or 404: none to give); false when it refused or failed.
   */
  refresh(opts?: { awaitAdmission?: boolean }): Promise<boolean>;
  stop(): void;
}

/** When to fetch credentials again: a pure policy, injected so tests (and operators) can change it. */
export interface IceRefreshPolicy {
  /** Credentials valid for `ttlMs` more: refresh after this long. */
  refreshIn(ttlMs: number): number;
  /** The last refresh failed (429/5xx or no network); `retryAfterMs` from the server's Retry-After. Null: stop retrying. */
  retryIn(retryAfterMs: number | null): number | null;
}

const REFRESH_MARGIN_MS = 5 * 60_000;

export const defaultIceRefreshPolicy: IceRefreshPolicy = {
  // Five minutes before expiry; short credentials at half-life (never hammering: at least 5 s).
  refreshIn: (ttl) => Math.max(5_000, ttl > 2 * REFRESH_MARGIN_MS ? ttl - REFRESH_MARGIN_MS : ttl / 2),
  retryIn: (retryAfter) => (retryAfter !== null && retryAfter > 0 ? Math.min(retryAfter, 10 * 60_000) : 30_000),
};

export interface IceProviderOptions {
  policy?: IceRefreshPolicy;
  clock?: Clock;
  fetch?: typeof fetch;
}

export function createIceProvider(clientId: string, fallback: RTCIceServer[], onUpdate: (servers: RTCIceServer[]) => void, opts: IceProviderOptions = {}): IceProvider {
  const policy = opts.policy ?? defaultIceRefreshPolicy;
  const clock = opts.clock ?? realClock;
  const get = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  let servers = fallback;
  let timer: unknown = null;
  let stopped = false;
  /** Whether the server gave us expiring TURN credentials (then they must be kept fresh). */
  let haveTurn = false;
  const schedule = (ms: number | null) => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = stopped || ms === null ? null : clock.setTimeout(() => void provider.refresh(), ms);
  };
  const provider: IceProvider = {
    current: () => servers,
    async refresh(opts = {}) {
      try {
        const res = await get(`/api/ice?client=${encodeURIComponent(clientId)}${opts.awaitAdmission ? '&wait=1' : ''}`, { cache: 'no-store' });
        if (stopped) return false;
        if (!res.ok) {
          // 404: a broker that isn't ours, so no TURN to fetch. 429 or 5xx: try again
          // later (honouring Retry-After), so a long call never keeps expired credentials.
          const s = Number(res.headers.get('Retry-After'));
          if (res.status !== 404 && haveTurn) schedule(policy.retryIn(Number.isFinite(s) && s > 0 ? s * 1000 : null));
          return res.status === 404;
        }
        const body = (await res.json()) as { iceServers?: RTCIceServer[]; expiresAt?: number | null; ttl?: number | null };
        if (!Array.isArray(body.iceServers) || stopped) return false;
        servers = body.iceServers;
        haveTurn = typeof body.ttl === 'number' || typeof body.expiresAt === 'number';
        onUpdate(servers);
        // The relative TTL, when the server sends it, is immune to a skewed client clock.
        const left = typeof body.ttl === 'number' ? body.ttl * 1000 : typeof body.expiresAt === 'number' ? body.expiresAt - clock.now() : null;
        if (left !== null) schedule(policy.refreshIn(left));
        return true;
      } catch {
        // Offline: retry while we hold TURN credentials; STUN still works for most calls meanwhile.
        if (haveTurn) schedule(policy.retryIn(null));
        return false;
      }
    },
    stop() {
      stopped = true;
      schedule(null);
    },
  };
  return provider;
}
