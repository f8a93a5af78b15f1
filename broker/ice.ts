/**
 * The ICE servers a browser gets from us.
 *
 *   GET /config.json  (server.ts)  STUN only: public, no credentials.
 *   GET /api/ice?client=<clientId>[&wait=1]
 *       wait=1: sent together with the room's SUBSCRIBE; a client not admitted
 *           yet is answered once it is (admission.ts), at most a few seconds later.
 *       200 { iceServers, expiresAt }  STUN + one TURN entry with a fresh
 *           credential (turn.ts); expiresAt = when coturn stops accepting it for
 *           new allocations (ms epoch), null when no TURN is configured.
 *       403 { error: "not-in-call" }   the clientId is not connected to this
 *           server's broker, not admitted to its room, or its MQTT connection
 *           came from another address than this request.
 *       429 { error: "rate-limited" }  + Retry-After (seconds), per client address.
 *       429 { error: "turn-budget" }   + Retry-After: this address has had its
 *           TURN_CREDENTIALS_PER_IP credentials for this TURN_TTL already.
 *   All of them with Cache-Control: no-store.
 *
 * Why "in a call": a TURN credential opens relays on our coturn, i.e. spends
 * our bandwidth; handing them to anyone who asks would make it an open relay
 * for the lifetime of each credential. The clientId is the app's own MQTT
 * clientId (`<roomId>.<peerId>`), which only someone holding the call link can
 * derive, and the broker admits at most two per room. But anyone can make up
 * a room and be alone in it (issue 11: 40 credentials out of 40 asked in a
 * minute), so each address also has a credential budget: with coturn's
 * user-quota, it bounds the relays one address can hold far below
 * total-quota (deploy/coturn/turnserver.conf has the arithmetic).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdmissionWaits } from './admission';
import { limitKey } from './ip';
import { KeyedRateLimit, type Clock } from './limits';
import type { Logger } from './log';
import { json, methodNotAllowed } from './respond';
import type { Metrics } from './metrics';
import { issueTurnCredential } from './turn';

/** The shape of WebRTC's RTCIceServer that we send (always the array form of `urls`). */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface TurnConfig {
  /** turn:/turns: URLs, all served by coturns sharing `secret`. */
  urls: string[];
  /** coturn's `static-auth-secret`. Never sent, never logged. */
  secret: string;
  ttlSeconds: number;
  /** Credentials one address may get per `ttlSeconds` (refilled evenly over it). */
  credentialsPerIp: number;
}

export interface IceConfig {
  /** stun: URLs; empty = none (then only host candidates, plus TURN if configured). */
  stunUrls: string[];
  turn: TurnConfig | null;
  /** GET /api/ice requests allowed per client address (IPv6: per /64) per minute. */
  rateLimitPerMinute: number;
}

export const DEFAULT_STUN_URLS: readonly string[] = ['stun:stun.l.google.com:19302'];
export const DEFAULT_ICE_RATE_LIMIT = 30;
/** Enough for several calls' worth of refreshes behind one NAT address; far below what fills coturn (turnserver.conf). */
export const DEFAULT_TURN_CREDENTIALS_PER_IP = 10;

export interface IceResponse {
  iceServers: IceServer[];
  /** ms since the epoch; null = nothing in iceServers expires. */
  expiresAt: number | null;
  /** The same moment as seconds from now, for clients whose clock is off; null with expiresAt. */
  ttl: number | null;
}

export type IceRefusal = 'not-in-call' | 'rate-limited' | 'turn-budget';

export interface IceEndpointDeps {
  ice: IceConfig;
  metrics: Metrics;
  logger: Logger;
  /**
   * The HTTP upgrade request of the MQTT connection that holds `clientId` on
   * this broker, if it is connected and admitted to its room; null otherwise.
   */
  admittedUpgrade(clientId: string): IncomingMessage | null | undefined;
  /** The client's address (ip.ts `clientAddress`): the same derivation for this request and for the /mqtt upgrade. */
  clientAddress(req: IncomingMessage): string;
  /** Requests with wait=1 from clients not admitted yet wait here; without it they are answered at once. */
  admissions?: AdmissionWaits;
  /**
   * Like admittedUpgrade, for a connection not admitted yet. Only a client
   * whose MQTT connection is on this process, from this address, is waited
   * for: in a cluster without address affinity the SUBSCRIBE goes to another
   * process, and waiting here would only delay the call by the timeout.
   */
  connectedUpgrade?(clientId: string): IncomingMessage | null | undefined;
  now?: Clock;
}

/** The STUN servers alone, for everyone (GET /config.json). */
export function publicIceServers(ice: IceConfig): IceServer[] {
  return ice.stunUrls.length > 0 ? [{ urls: [...ice.stunUrls] }] : [];
}

/** STUN plus, when configured, TURN with a credential valid for `ttlSeconds` from `now`. */
export function issueIceServers(ice: IceConfig, now: number): IceResponse {
  const iceServers = publicIceServers(ice);
  if (!ice.turn) return { iceServers, expiresAt: null, ttl: null };
  const { username, credential, expiresAt } = issueTurnCredential({ secret: ice.turn.secret, ttlSeconds: ice.turn.ttlSeconds, now });
  iceServers.push({ urls: [...ice.turn.urls], username, credential });
  return { iceServers, expiresAt, ttl: Math.round((expiresAt - now) / 1000) };
}

/** What ip.ts `clientAddress` says when the socket has no address any more. */
const UNKNOWN = 'unknown';

export class IceEndpoint {
  private readonly limiter: KeyedRateLimit;
  private readonly turnBudget: KeyedRateLimit | null;
  private readonly now: Clock;

  constructor(private readonly deps: IceEndpointDeps) {
    this.now = deps.now ?? Date.now;
    this.limiter = new KeyedRateLimit(deps.ice.rateLimitPerMinute, deps.ice.rateLimitPerMinute / 60, this.now);
    const turn = deps.ice.turn;
    this.turnBudget = turn ? new KeyedRateLimit(turn.credentialsPerIp, turn.credentialsPerIp / turn.ttlSeconds, this.now) : null;
  }

  /** `target` is the raw request target (path + query). */
  serve(req: IncomingMessage, res: ServerResponse, target: string): void {
    if (req.method !== 'GET') {
      methodNotAllowed(res, 'GET');
      return;
    }
    const address = this.deps.clientAddress(req);
    // Limit first, so probing clientIds costs the same as asking for credentials.
    const retryAfter = this.limiter.take(limitKey(address));
    if (retryAfter !== null) {
      this.refuse('rate-limited', address);
      json(res, 429, { error: 'rate-limited' }, { 'Retry-After': String(retryAfter) });
      return;
    }
    const query = queryOf(target);
    const clientId = clientParam(query);
    const waits = this.deps.admissions;
    if (waits && clientId !== null && address !== UNKNOWN && query.get('wait') === '1' && this.connectedFrom(clientId, address) && !this.inCallFrom(clientId, address)) {
      void waits.wait(clientId, limitKey(address), (gone) => res.once('close', gone)).then(() => {
        if (!res.writableEnded && !res.destroyed) this.answer(res, clientId, address);
      });
      return;
    }
    this.answer(res, clientId, address);
  }

  private answer(res: ServerResponse, clientId: string | null, address: string): void {
    if (clientId === null || address === UNKNOWN || !this.inCallFrom(clientId, address)) {
      this.refuse('not-in-call', address);
      json(res, 403, { error: 'not-in-call' });
      return;
    }
    // Counted only for callers in a call, so strangers probing clientIds can't spend someone's budget.
    const budgetWait = this.turnBudget?.take(limitKey(address)) ?? null;
    if (budgetWait !== null) {
      this.refuse('turn-budget', address);
      json(res, 429, { error: 'turn-budget' }, { 'Retry-After': String(budgetWait) });
      return;
    }
    const body = issueIceServers(this.deps.ice, this.now());
    if (body.expiresAt !== null) this.deps.metrics.turnCredentialIssued();
    // The clientId is a hash of the call secret (protocol/crypto.ts); the credential is never logged.
    this.deps.logger.debug({ clientId, turn: body.expiresAt !== null }, 'ice servers issued');
    json(res, 200, body);
  }

  /** Connected to this broker (maybe not admitted yet), from the address of this request. */
  private connectedFrom(clientId: string, address: string): boolean {
    return this.sameAddress(this.deps.connectedUpgrade?.(clientId), address);
  }

  private inCallFrom(clientId: string, address: string): boolean {
    return this.sameAddress(this.deps.admittedUpgrade(clientId), address);
  }

  private sameAddress(upgrade: IncomingMessage | null | undefined, address: string): boolean {
    return upgrade != null && this.deps.clientAddress(upgrade) === address;
  }

  private refuse(reason: IceRefusal, address: string): void {
    this.deps.metrics.iceRefused(reason);
    // No clientId here: the request's query is whatever the caller sent.
    this.deps.logger.info({ reason, remote: address }, 'ice request refused');
  }
}

/** The request target's query (empty without one), parsed once for every parameter. */
function queryOf(target: string): URLSearchParams {
  const query = target.indexOf('?');
  return new URLSearchParams(query === -1 ? '' : target.slice(query + 1));
}

/** The `client` query parameter, or null when absent, repeated or absurdly long. */
function clientParam(query: URLSearchParams): string | null {
  const values = query.getAll('client');
  const [value] = values;
  // The lookup is an exact match against connected clientIds; this only bounds the work.
  return values.length === 1 && value !== undefined && value.length > 0 && value.length <= 256 ? value : null;
}
