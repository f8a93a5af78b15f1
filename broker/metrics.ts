/**
 * Prometheus metrics on a registry of our own (not prom-client's global one),
 * so each server, and each test's server, counts only its own traffic.
 *
 * Gauges are read at scrape time from their source of truth (the broker's
 * client table, the room registry) instead of being kept by inc/dec, which
 * drifts the first time an event is missed.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { IceRefusal } from './ice';
import type { PushResult } from './push';

/** Why GET /api/ice was refused (broker/ice.ts). */
export const ICE_REFUSALS: readonly IceRefusal[] = ['not-in-call', 'rate-limited', 'turn-budget'];

/** What became of a POST /api/push (broker/push.ts); `refused` = a bad request or an endpoint not allowed. */
export const PUSH_RESULTS: readonly PushResult[] = ['accepted', 'gone', 'refused', 'failed', 'limited'];

/**
 * Process metrics (memory, CPU, event-loop lag, GC) describe the process, not
 * one server, and prom-client starts a sampler per registry it collects them
 * on; so one registry per process, merged into every scrape.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Why a client's request was refused. Labels are a closed set: no ids, ever. */
export const REFUSAL_REASONS = [
  'client-id',
  'credentials',
  'session',
  'subscribe-filter',
  'room-full',
  'topic',
  'other-room',
  'spoofed-peer',
  'not-admitted',
  'qos',
  'payload-size',
  'retain',
  'forward',
  // CONNECT with a Will other than the client's own presence clear (will.ts `willProblem`)
  'will',
  // CONNECT from a clientId banned for flapping (limits.ts FlapDetector)
  'flapping',
  // an inbox connection listening on more inboxes than any phone has contacts (inbox.ts)
  'inbox-count',
  // rings over the per-sender or per-recipient rate (inbox.ts)
  'ring-rate',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Why a WebSocket connection ended. `normal` = the client hung up or was replaced. */
export const CLOSE_REASONS = [
  'normal',
  'oversize',
  'malformed',
  'text-frame',
  'connect-timeout',
  'keepalive',
  'refused',
  'protocol-error',
  'shutdown',
  // broker/connections.ts: one packet spread over too many WebSocket messages (or fragments)
  'fragmented',
  // more packets or messages per second than MSG_RATE/MSG_BURST allow
  'rate-limit',
  // stopped reading: more than OUTBOUND_BUFFER_BYTES waiting to be sent to it
  'slow-consumer',
  // a SUBSCRIBE longer than the protocol's two filters can be (connections.ts MAX_SUBSCRIBE_BYTES)
  'subscribe-size',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Why a WebSocket upgrade on /mqtt was refused before the handshake (broker/gate.ts). */
export const UPGRADE_REFUSALS = ['origin', 'ip-connections', 'ip-rate', 'server-full'] as const;
export type UpgradeRefusal = (typeof UPGRADE_REFUSALS)[number];

export interface MetricSources {
  clients: () => number;
  rooms: () => number | Promise<number>;
  /** GET /api/ice?wait=1 requests held until their client is admitted (admission.ts). */
  admissionWaits?: () => number;
}

export class Metrics {
  readonly registry = new Registry();
  private sources: MetricSources = { clients: () => 0, rooms: () => 0 };

  private readonly refusedTotal = new Counter({
    name: 'tandem_refused_total',
    help: 'Connects, subscriptions, publishes and deliveries refused by the broker policy',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly closedTotal = new Counter({
    name: 'tandem_connections_closed_total',
    help: 'MQTT-over-WebSocket connections closed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly relayedTotal = new Counter({
    name: 'tandem_messages_relayed_total',
    help: 'Messages delivered from one client to another (including retained presence)',
    registers: [this.registry],
  });

  private readonly turnIssuedTotal = new Counter({
    name: 'tandem_turn_credentials_issued_total',
    help: 'TURN credentials handed out by GET /api/ice',
    registers: [this.registry],
  });

  private readonly iceRefusedTotal = new Counter({
    name: 'tandem_ice_refused_total',
    help: 'GET /api/ice requests refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly pushTotal = new Counter({
    name: 'tandem_push_total',
    help: 'POST /api/push requests, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly upgradesRefusedTotal = new Counter({
    name: 'tandem_upgrades_refused_total',
    help: 'WebSocket upgrades on /mqtt refused before the handshake, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly flapBansTotal = new Counter({
    name: 'tandem_flap_bans_total',
    help: 'Temporary per-clientId bans for connect/disconnect flapping',
    registers: [this.registry],
  });

  constructor() {
    const sources = (): MetricSources => this.sources;
    new Gauge({
      name: 'tandem_clients_connected',
      help: 'MQTT clients that completed CONNECT and are still connected',
      registers: [this.registry],
      collect() {
        this.set(sources().clients());
      },
    });
    new Gauge({
      name: 'tandem_rooms_active',
      help: 'Rooms with at least one admitted peer',
      registers: [this.registry],
      async collect() {
        this.set(await sources().rooms());
      },
    });
    new Gauge({
      name: 'tandem_ice_admission_waits',
      help: 'GET /api/ice?wait=1 requests held until their client is admitted to its room',
      registers: [this.registry],
      collect() {
        this.set(sources().admissionWaits?.() ?? 0);
      },
    });
    // Zero every labelled series up front so dashboards and alerts see 0, not "no data".
    for (const reason of REFUSAL_REASONS) this.refusedTotal.inc({ reason }, 0);
    for (const reason of CLOSE_REASONS) this.closedTotal.inc({ reason }, 0);
    for (const reason of UPGRADE_REFUSALS) this.upgradesRefusedTotal.inc({ reason }, 0);
    for (const reason of ICE_REFUSALS) this.iceRefusedTotal.inc({ reason }, 0);
    for (const result of PUSH_RESULTS) this.pushTotal.inc({ result }, 0);
  }

  observe(sources: MetricSources): void {
    this.sources = sources;
  }

  refused(reason: RefusalReason): void {
    this.refusedTotal.inc({ reason });
  }

  connectionClosed(reason: CloseReason): void {
    this.closedTotal.inc({ reason });
  }

  relayed(): void {
    this.relayedTotal.inc();
  }

  upgradeRefused(reason: UpgradeRefusal): void {
    this.upgradesRefusedTotal.inc({ reason });
  }

  flapBanned(): void {
    this.flapBansTotal.inc();
  }

  turnCredentialIssued(): void {
    this.turnIssuedTotal.inc();
  }

  iceRefused(reason: IceRefusal): void {
    this.iceRefusedTotal.inc({ reason });
  }

  pushed(result: PushResult): void {
    this.pushTotal.inc({ result });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return Registry.merge([this.registry, processMetrics()]).metrics();
  }
}
