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
  const provider: IceProvider = {
    current: () => servers,
    async refresh() {
      try {
        const res = await fetch(`/api/ice?client=${encodeURIComponent(clientId)}`, { cache: 'no-store' });
        if (!res.ok) return;
        const body = (await res.json()) as { iceServers?: RTCIceServer[]; expiresAt?: number | null };
        if (!Array.isArray(body.iceServers) || stopped) return;
        servers = body.iceServers;
        onUpdate(servers);
        if (timer !== null) clearTimeout(timer);
        if (typeof body.expiresAt === 'number') {
          const left = body.expiresAt - Date.now();
          const wait = Math.max(5_000, left > 2 * REFRESH_MARGIN_MS ? left - REFRESH_MARGIN_MS : left / 2);
          timer = setTimeout(() => void provider.refresh(), wait);
        }
      } catch {
        // Offline or not our server: STUN from /config.json still works for most calls.
      }
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
  return provider;
}
