/**
 * The broker's policy, as Aedes hooks that deny by default. Each packet goes
 * syntax check → authorize → act (the shape of aedes lib/handlers/publish.js
 * `publishActions`), and nothing a client says about who it is counts: the
 * room and peer id come from the clientId checked at CONNECT, and every topic
 * a client touches must carry exactly those.
 *
 * A connection's life: CONNECT (clientId must be `<roomId>.<peerId>`) →
 * SUBSCRIBE to its room's two filters, which admits it to the room if there is
 * a place → PUBLISH on its own two topics only → disconnect, which frees the
 * place and clears its retained presence.
 */
import type { IncomingMessage } from 'node:http';
import type { Aedes, AedesOptions, Client, PublishPacket } from 'aedes';
import {
  MAX_CLIENT_ID_CHARS,
  MAX_PAYLOAD_BYTES,
  isPeerToken,
  isRetainedKind,
  parseClientId,
  parseInboxClientId,
  parseInboxTopic,
  peerIdOf,
  parseTopic,
  peerTopic,
  roomFilters,
  type PeerId,
  type RoomId,
} from '../protocol/index';
import { InboxPolicy, inboxConnectProblem, type InboxSession } from './inbox';
import { FlapDetector, type FlapLimits } from './limits';
import { authError, BAD_CREDENTIALS, clip, grant, IDENTIFIER_REJECTED, NOT_AUTHORIZED, payloadBytes, RefusedError, SERVER_UNAVAILABLE } from './refusals';

export { RefusedError } from './refusals';
import type { Logger } from './log';
import { LogBudget } from './log-budget';
import type { Metrics, RefusalReason } from './metrics';
import type { RoomRegistry } from './rooms';
import { willProblem, type WillPacket } from './will';

/** What the broker knows about one room connection, fixed at CONNECT. */
interface RoomSession {
  kind: 'room';
  room: RoomId;
  peer: PeerId;
  /** Set once the registry gave this connection a place; never unset, see `release`. */
  admitted: boolean;
  /** Set when an admit was sent to the registry, whatever its answer: it may have taken a place whose reply was lost. */
  admitting: boolean;
}


type Hooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizeSubscribe' | 'authorizePublish' | 'authorizeForward'>>;

export interface PolicyDeps {
  registry: RoomRegistry<Client>;
  metrics: Metrics;
  logger: Logger;
  /** MQTT keepalive is clamped into [min, max] seconds; defaults 5..120. */
  keepalive?: { minSeconds: number; maxSeconds: number };
  /** Flapping is judged per clientId (FLAP_*); default: effectively off. */
  flap?: FlapLimits;
  /** Shared with connections.ts: refusals are logged within it, never one line per filter. */
  logBudget?: LogBudget;
  /** Rings between saved contacts (inbox.ts); default rates if not given. */
  inbox?: InboxPolicy;
  /** Told each clientId the moment its room admits it (GET /api/ice?wait=1 waits on it). */
  onAdmitted?: (clientId: string) => void;
}

type Session = RoomSession | InboxSession;

const NO_FLAP_LIMIT: FlapLimits = { flapMax: Number.MAX_SAFE_INTEGER, flapWindowMs: 1, banMs: 0 };

/** The app asks for KEEPALIVE_SECONDS (10), well inside. */
const DEFAULT_KEEPALIVE = { minSeconds: 5, maxSeconds: 120 };


export class BrokerPolicy {
  private readonly sessions = new WeakMap<Client, Session>();
  /** Connected clients by clientId, for `admittedUpgrade`. */
  private readonly connected = new Map<string, Client>();
  /** Each client's CONNECT Will, from preConnect to authenticate (Aedes keeps it in a private field). */
  private readonly wills = new WeakMap<Client, WillPacket | null>();
  private readonly flapping: FlapDetector;
  private readonly logBudget: LogBudget;
  private broker: Aedes | null = null;
  private readonly inbox: InboxPolicy;

  constructor(private readonly deps: PolicyDeps) {
    this.logBudget = deps.logBudget ?? new LogBudget();
    this.inbox = deps.inbox ?? new InboxPolicy();
    this.flapping = new FlapDetector(deps.flap ?? NO_FLAP_LIMIT, Date.now, () => {
      this.deps.metrics.flapBanned();
      const suppressed = this.logBudget.take();
      if (suppressed !== null) this.deps.logger.warn({ banMs: deps.flap?.banMs, suppressed }, 'clientId banned for flapping');
    });
  }

  /** The hooks, for `Aedes.createBroker({ ...policy.hooks })`. */
  readonly hooks: Hooks = {
    preConnect: (client, packet, done) => {
      this.wills.set(client, (packet.will as WillPacket | undefined) ?? null);
      // Clamped, not refused: MQTT 3.1.1 has no CONNACK code for it (Aedes's
      // keepaliveLimit answers 6, which only 5.0 defines), and clamping needs
      // no cooperation. A client that asked for 0 ("never time me out") or an
      // hour is reaped after 1.5 × the maximum of silence [MQTT-3.1.2-24]; one
      // that asked for 1 s gets more slack than it asked for, which is harmless.
      const { minSeconds, maxSeconds } = this.deps.keepalive ?? DEFAULT_KEEPALIVE;
      const asked = packet.keepalive ?? 0;
      const granted = asked === 0 ? maxSeconds : Math.min(maxSeconds, Math.max(minSeconds, asked));
      if (granted !== asked) {
        packet.keepalive = granted;
        this.deps.logger.debug({ asked, granted }, 'keepalive clamped');
      }
      done(null, true);
    },

    authenticate: (client, username, password, done) => {
      // Checked before parsing: whatever else it is, a longer id is not one of ours.
      const shortId = typeof client.id === 'string' && client.id.length <= MAX_CLIENT_ID_CHARS;
      const inboxPeer = shortId ? parseInboxClientId(client.id) : null;
      if (inboxPeer) {
        this.authenticateInbox(client, inboxPeer, username, password, done);
        return;
      }
      const id = shortId ? parseClientId(client.id) : null;
      if (!id) {
        this.refuse('client-id', client);
        done(authError(IDENTIFIER_REJECTED, 'clientId must be <roomId>.<peerId>'), null);
        return;
      }
      // A persistent session would keep subscriptions and queued messages for
      // a clientId after its connection ends; with one clientId per room and
      // peer, that is memory anyone can make the broker hold forever.
      if (!client.clean) {
        this.refuse('session', client);
        done(authError(NOT_AUTHORIZED, 'only clean sessions are accepted'), null);
        return;
      }
      // The password is the peer's token and the peer id its hash (protocol/crypto.ts
      // `peerIdOf`): a former member who saw a peer id in a topic can't connect as it.
      const badCredentials = () => {
        this.refuse('credentials', client);
        done(authError(BAD_CREDENTIALS, 'username must be the room id, password the token of the peer id'), null);
      };
      const token = password ? password.toString('utf8') : null;
      if (username !== id.room || !isPeerToken(token)) return badCredentials();
      // Checked at CONNECT, before Aedes stores it: a Will is published when the
      // connection dies, in a cluster by another process long after (issue 11, "foreign Will").
      if (willProblem(this.wills.get(client) ?? null, id.room, id.peer)) {
        this.refuse('will', client);
        done(authError(NOT_AUTHORIZED, 'the only Will allowed is an empty retained publish on your own presence topic'), null);
        return;
      }
      peerIdOf(token).then(
        (peer) => {
          if (peer !== id.peer) return badCredentials();
          // After the credentials: only the holder of a token can get its clientId banned.
          if (this.flapping.bannedFor(client.id) !== null) {
            this.refuse('flapping', client);
            done(authError(SERVER_UNAVAILABLE, 'reconnecting too often: try again later'), null);
            return;
          }
          this.sessions.set(client, { kind: 'room', room: id.room, peer: id.peer, admitted: false, admitting: false });
          done(null, true);
        },
        (err: unknown) => {
          this.deps.logger.error({ err }, 'peer id check failed');
          done(authError(SERVER_UNAVAILABLE, 'server unavailable'), null);
        },
      );
    },

    authorizeSubscribe: (client, sub, done) => {
      const session = this.sessions.get(client);
      if (session?.kind === 'inbox') {
        const reason = this.inbox.subscribe(session, sub.topic);
        if (reason) {
          this.refuse(reason, client, sub.topic);
          done(new RefusedError(reason));
          return;
        }
        done(null, grant(sub));
        return;
      }
      if (!session || !roomFilters(session.room).includes(sub.topic)) {
        // The app only ever asks for its room's filters, so anything else is
        // hostile: the error closes the connection at the first one (issue 11, "filter flood").
        this.refuse('subscribe-filter', client, sub.topic);
        done(new RefusedError('subscribe-filter'));
        return;
      }
      session.admitting = true;
      this.deps.registry.admit(session.room, session.peer, client).then(
        (admitted) => {
          if (!admitted) {
            this.refuse('room-full', client, sub.topic);
            done(null, null);
            return;
          }
          if (client.closed) {
            // It went away while the registry answered; don't leave a ghost in its place.
            void this.deps.registry.leave(session.room, session.peer, client);
            done(null, null);
            return;
          }
          session.admitted = true;
          done(null, grant(sub));
          this.deps.onAdmitted?.(client.id);
        },
        (err: unknown) => {
          this.deps.logger.error({ err, clientId: client.id }, 'room registry failed on admit');
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    },

    authorizePublish: (client, packet, done) => {
      const reason = this.checkPublish(client, packet);
      if (reason) {
        this.refuse(reason, client, packet.topic);
        done(new RefusedError(reason));
        return;
      }
      done(null);
    },

    authorizeForward: (client, packet) => {
      const session = this.sessions.get(client);
      if (session?.kind === 'inbox') {
        if (!this.inbox.forward(session, packet.topic)) {
          this.refuse('forward', client, packet.topic);
          return null;
        }
        this.deps.metrics.relayed();
        return packet;
      }
      const topic = parseTopic(packet.topic);
      // Subscriptions are already limited to the client's own room, so this
      // only fires if that check is ever broken: defense in depth.
      if (!session?.admitted || !topic || topic.room !== session.room) {
        this.refuse('forward', client, packet.topic);
        return null;
      }
      this.deps.metrics.relayed();
      return packet;
    },
  };

  /** Wires the policy to the broker's lifecycle events. Call once, right after creating the broker. */
  attach(broker: Aedes): void {
    this.broker = broker;
    broker.on('clientReady', (client) => {
      // Aedes can finish CONNECT for a client that closed meanwhile (its
      // 'clientDisconnect' already fired): remembering it would leak it forever.
      if (client.closed) return;
      this.connected.set(client.id, client);
      this.deps.logger.debug({ clientId: client.id }, 'client connected');
    });
    broker.on('clientDisconnect', (client) => {
      // Identity-checked: a takeover registers the new client before the old one's disconnect.
      if (this.connected.get(client.id) === client) this.connected.delete(client.id);
      this.deps.logger.debug({ clientId: client.id }, 'client disconnected');
      // Authenticated connections only: anyone can send someone else's clientId, not its token.
      if (this.sessions.has(client)) this.flapping.closed(client.id);
      this.release(client);
    });
    // Aedes follows a client error with clientDisconnect only for clients it
    // registered; releasing here too covers the rest, and leave() is
    // identity-checked, so the second call is a no-op.
    broker.on('clientError', (client) => this.release(client));
    broker.on('unsubscribe', (filters, client) => {
      const session = client ? this.sessions.get(client) : undefined;
      if (session?.kind === 'inbox') for (const filter of filters) this.inbox.unsubscribe(session, filter);
    });
  }

  /** An inbox connection (inbox.ts): the same token proof as a room connection, no Will, no room. */
  private authenticateInbox(client: Client, peer: PeerId, username: string | undefined, password: Buffer | undefined, done: Parameters<Hooks['authenticate']>[3]): void {
    const token = password ? password.toString('utf8') : null;
    const problem = !client.clean ? 'session' : inboxConnectProblem(username, (this.wills.get(client) ?? null) !== null);
    if (problem || !isPeerToken(token)) {
      const reason = problem ?? 'credentials';
      this.refuse(reason, client);
      done(authError(reason === 'credentials' ? BAD_CREDENTIALS : NOT_AUTHORIZED, 'an inbox connection needs username "inbox", its token, a clean session and no Will'), null);
      return;
    }
    peerIdOf(token).then(
      (id) => {
        if (id !== peer) {
          this.refuse('credentials', client);
          done(authError(BAD_CREDENTIALS, 'the password must be the token of the peer id'), null);
          return;
        }
        if (this.flapping.bannedFor(client.id) !== null) {
          this.refuse('flapping', client);
          done(authError(SERVER_UNAVAILABLE, 'reconnecting too often: try again later'), null);
          return;
        }
        this.sessions.set(client, this.inbox.session(peer));
        done(null, true);
      },
      (err: unknown) => {
        this.deps.logger.error({ err }, 'peer id check failed');
        done(authError(SERVER_UNAVAILABLE, 'server unavailable'), null);
      },
    );
  }

  /**
   * The HTTP upgrade request of the connection holding `clientId` if it is
   * connected to this broker and admitted to its room, else null. GET /api/ice
   * hands out TURN credentials only to such a caller, from the same address.
   */
  admittedUpgrade(clientId: string): IncomingMessage | null {
    const client = this.liveClient(clientId);
    const session = client ? this.sessions.get(client) : undefined;
    return client && session?.kind === 'room' && session.admitted ? (client.req ?? null) : null;
  }

  /** The same for a connection to this broker that may not be admitted yet (GET /api/ice?wait=1 waits only for those). */
  connectedUpgrade(clientId: string): IncomingMessage | null {
    return this.liveClient(clientId)?.req ?? null;
  }

  private liveClient(clientId: string): Client | null {
    const client = this.connected.get(clientId);
    return client && !client.closed && client.connected ? client : null;
  }

  /** Syntax first, then authorization; null = allowed. */
  private checkPublish(client: Client | null, packet: PublishPacket): RefusalReason | null {
    if (parseInboxTopic(packet.topic)) {
      const session = client ? this.sessions.get(client) : undefined;
      return this.inbox.publish(session?.kind === 'inbox' ? session : null, packet, payloadBytes(packet.payload));
    }
    const topic = parseTopic(packet.topic);
    if (!topic) return 'topic';
    if (packet.qos > 1) return 'qos';
    if (payloadBytes(packet.payload) > MAX_PAYLOAD_BYTES) return 'payload-size';
    if (packet.retain && !isRetainedKind(topic.kind)) return 'retain';
    if (client === null) {
      // Aedes republishes the Wills of a broker that died with client = null
      // (aedes.js `_clearWills`); the only Will the app sets is this one.
      const isPresenceClear = topic.kind === 'presence' && packet.retain && payloadBytes(packet.payload) === 0;
      return isPresenceClear ? null : 'not-admitted';
    }
    const session = this.sessions.get(client);
    if (session?.kind !== 'room') return 'not-admitted';
    if (topic.room !== session.room) return 'other-room';
    // The sender is who the connection says it is, not who the topic says (STYLE 11).
    if (topic.peer !== session.peer) return 'spoofed-peer';
    if (!session.admitted) return 'not-admitted';
    return null;
  }

  /**
   * Frees the client's place and, if the peer has no other connection holding
   * it, clears its retained presence: the app's Will does that when a
   * connection dies, but not on a clean DISCONNECT, and a room must not keep
   * a departed peer's presence (or offer) until someone overwrites it.
   * `admitted` stays set so the Will, published after this, is still allowed.
   * An admit whose answer never came (a lost Redis reply) may hold a place
   * too: leave() is identity-checked, so asking costs nothing if it doesn't.
   */
  private release(client: Client): void {
    const session = this.sessions.get(client);
    if (session?.kind !== 'room' || (!session.admitted && !session.admitting)) return;
    const { room, peer } = session;
    this.deps.registry.leave(room, peer, client).then(
      (removed) => {
        const broker = this.broker;
        if (!removed || !broker || broker.closed) return;
        // QoS 1 like the peer's own messages: Aedes drops a delivery whose
        // broker counter is older than one already delivered (client.js
        // `dedupe`), and a QoS 0 publish skips a step of the QoS 1 pipeline, so
        // it could overtake the peer's last "bye" and make the other side drop it.
        broker.publish(
          { cmd: 'publish', topic: peerTopic(room, peer, 'presence'), payload: Buffer.alloc(0), qos: 1, retain: true, dup: false },
          (err) => {
            if (err) this.deps.logger.warn({ err, clientId: client.id }, 'could not clear retained presence');
          },
        );
      },
      (err: unknown) => this.deps.logger.error({ err, clientId: client.id }, 'room registry failed on leave'),
    );
  }

  private refuse(reason: RefusalReason, client: Client | null, topic?: string): void {
    this.deps.metrics.refused(reason);
    // Ids and topics hold only hashes of the call secret; a hostile client may
    // send anything in them, so they are truncated. Payloads are never logged.
    // Within the shared budget: one SUBSCRIBE can carry dozens of refused filters.
    const suppressed = this.logBudget.take();
    if (suppressed === null) return;
    const level = reason === 'forward' ? 'warn' : 'info';
    this.deps.logger[level]({ reason, clientId: clip(client?.id), topic: clip(topic), suppressed }, 'refused');
  }
}

