/**
 * ICE servers for the call: STUN from /config.json, plus short-lived TURN
 * credentials from /api/ice once we are admitted to the room (the server
 * gives them only to a client that is in a call). They are re-fetched
 * before they expire and applied to the live connection, so an ICE restart
 * late in a long call still has a valid relay.
 */
export interface IceProvider {
  current(): RTCIceServer[];
  /** Fetches fresh servers; keeps the old ones on failure (e.g. a broker that isn't ours). */
  refresh(): Promise<void>;
  stop(): void;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
const RETRY_MS = 30_000;

function retryDelay(retryAfter: string | null): number {
  const s = Number(retryAfter);
  return Number.isFinite(s) && s > 0 ? Math.min(s * 1000, 10 * 60_000) : RETRY_MS;
}
const RELAY_ONLY_KEY = 'tandem.relayOnly';

export const relayOnly = (): boolean => {
  try {
    return localStorage.getItem(RELAY_ONLY_KEY) === '1';
  } catch {
    return false;
  }
};

export function setRelayOnly(on: boolean): void {
  localStorage.setItem(RELAY_ONLY_KEY, on ? '1' : '0');
}

export function createIceProvider(clientId: string, fallback: RTCIceServer[], onUpdate: (servers: RTCIceServer[]) => void): IceProvider {
  let servers = fallback;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  /** Whether the server gave us expiring TURN credentials (then they must be kept fresh). */
  let haveTurn = false;
  const provider: IceProvider = {
    current: () => servers,
    async refresh() {
      const schedule = (ms: number) => {
        if (timer !== null) clearTimeout(timer);
        timer = stopped ? null : setTimeout(() => void provider.refresh(), ms);
      };
      try {
        const res = await fetch(`/api/ice?client=${encodeURIComponent(clientId)}`, { cache: 'no-store' });
        if (stopped) return;
        if (!res.ok) {
          // 404: a broker that isn't ours, so no TURN to fetch. 429 or 5xx: try again
          // later (honouring Retry-After), so a long call never keeps expired credentials.
          if (res.status !== 404 && haveTurn) schedule(retryDelay(res.headers.get('Retry-After')));
          return;
        }
        const body = (await res.json()) as { iceServers?: RTCIceServer[]; expiresAt?: number | null; ttl?: number | null };
        if (!Array.isArray(body.iceServers) || stopped) return;
        servers = body.iceServers;
        haveTurn = typeof body.ttl === 'number' || typeof body.expiresAt === 'number';
        onUpdate(servers);
        // The relative TTL, when the server sends it, is immune to a skewed client clock.
        const left = typeof body.ttl === 'number' ? body.ttl * 1000 : typeof body.expiresAt === 'number' ? body.expiresAt - Date.now() : null;
        if (left !== null) schedule(Math.max(5_000, left > 2 * REFRESH_MARGIN_MS ? left - REFRESH_MARGIN_MS : left / 2));
      } catch {
        // Offline: retry while we hold TURN credentials; STUN still works for most calls meanwhile.
        if (haveTurn) schedule(RETRY_MS);
      }
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
  return provider;
}
