/** What the server tells the page at call time (GET /config.json, never cached), and whether it answers at all. */
import type { Clock } from '../call/ports';
import { defaultProbePolicy, type ReconnectPolicy } from './reconnect';

export interface ClientConfig {
  brokerUrl: string;
  iceServers: RTCIceServer[];
  /** The server has a TURN relay: "Relay only" can work. */
  relay: boolean;
  /** The server's VAPID key for Web Push (ringing a closed app); null = the server relays no pushes. */
  vapidPublicKey: string | null;
}

export async function fetchClientConfig(origin: string, get: typeof fetch = (...a) => fetch(...a)): Promise<ClientConfig> {
  const res = await get('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config ${res.status}`);
  const body = (await res.json()) as { brokerUrl?: string | null; iceServers?: RTCIceServer[]; relay?: unknown; vapidPublicKey?: unknown };
  const sameOrigin = `${origin.replace(/^http/, 'ws')}/mqtt`;
  return {
    brokerUrl: body.brokerUrl || sameOrigin,
    iceServers: Array.isArray(body.iceServers) ? body.iceServers : [],
    relay: body.relay === true,
    vapidPublicKey: typeof body.vapidPublicKey === 'string' ? body.vapidPublicKey : null,
  };
}

export interface WaitForServerOptions {
  policy?: ReconnectPolicy;
  get?: typeof fetch;
  /** Called after each probe the server didn't answer (Home shows "offline" from the first one). */
  onMiss?: () => void;
}

/** The browser's `online` event as a wake-up for waitForServer. */
export const wakeOnOnline = (fn: () => void): (() => void) => {
  addEventListener('online', fn);
  return () => removeEventListener('online', fn);
};

/**
 * Resolves the next time the server answers /healthz (never cached:
 * navigator.onLine can read true after an offline reload served by the
 * service worker). Asks now, then as often as the policy says; `wake` (the
 * `online` event, where the platform fires it) cuts a wait short.
 */
export async function waitForServer(clock: Clock, wake: (fn: () => void) => () => void, opts: WaitForServerOptions = {}): Promise<void> {
  const { policy = defaultProbePolicy, get = (...a: Parameters<typeof fetch>) => fetch(...a), onMiss } = opts;
  const start = clock.now();
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await get('/healthz', { cache: 'no-store' })).ok) return;
    } catch {
      // Still offline.
    }
    onMiss?.();
    const delay = policy.nextDelay({ attempt, elapsedMs: clock.now() - start });
    if (delay === null) throw new Error('server unreachable');
    await new Promise<void>((resolve) => {
      const done = () => {
        off();
        clock.clearTimeout(t);
        resolve();
      };
      const t = clock.setTimeout(done, delay);
      const off = wake(done);
    });
  }
}
