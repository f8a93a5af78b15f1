/**
 * TURN minting (issue 11): anyone who makes up a room and sits in it alone is
 * "in a call", and used to get TURN credentials 40 times out of 40 in a
 * minute, each one good for 12 relays for an hour. Now one address gets
 * TURN_CREDENTIALS_PER_IP per TURN_TTL, and the production coturn config caps
 * each credential (user-quota), each relay (max-bps) and the server
 * (total-quota). Real server process and real coturn, started with
 * deploy/coturn/turnserver.conf.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientIdFor, roomFilters } from '../../protocol/index';
import { findTurnutils } from '../helpers/binaries';
import { cleanup, makeDist } from '../helpers/broker';
import { type Coturn, runUclient, startCoturn } from '../helpers/coturn';
import { connectMqtt, metric, mqttUrlOf, newPeerId, newRoom } from '../helpers/hostile';
import { REPO, startServer, type ServerProcess } from '../helpers/server';

const STRANGER = '127.0.0.6';
const bins = findTurnutils();

/** GET /api/ice?client=… from `localAddress`; resolves with the status and body. */
function askIce(url: string, clientId: string, localAddress: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/ice?client=${encodeURIComponent(clientId)}`, { localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

describe.skipIf(bins === null)('TURN credentials for a stranger alone in a made-up room', { timeout: 60_000 }, () => {
  let turn: Coturn;
  let server: ServerProcess;
  beforeAll(async () => {
    turn = await startCoturn({ configFile: join(REPO, 'deploy/coturn/turnserver.conf'), allowLoopbackPeers: true });
    server = await startServer({ DIST_DIR: await makeDist(), TURN_URLS: turn.url('udp'), TURN_SECRET: turn.secret, LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await server?.stop();
    await turn?.stop();
    await cleanup();
  });

  it('gets TURN_CREDENTIALS_PER_IP (10) of 40 asked in a minute; each works on the real coturn, which caps it by the deployed quotas', async () => {
    const room = newRoom();
    const peer = newPeerId();
    const client = await connectMqtt(mqttUrlOf(server.url), room, peer, { localAddress: STRANGER });
    await client.subscribeAsync(roomFilters(room), { qos: 1 });
    const statuses = new Map<string, number>();
    const credentials: Array<{ username: string; credential: string }> = [];
    for (let i = 0; i < 40; i += 1) {
      const { status, body } = await askIce(server.url, clientIdFor(room, peer), STRANGER);
      const parsed = JSON.parse(body) as { error?: string; iceServers?: Array<{ username?: string; credential?: string }>; ttl?: number };
      const key = status === 200 ? '200' : `${status} ${parsed.error}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      const entry = parsed.iceServers?.find((s) => s.credential);
      if (entry?.username && entry.credential) credentials.push({ username: entry.username, credential: entry.credential });
      if (i === 0) expect(parsed.ttl).toBeGreaterThan(590); // TURN_TTL's new default, 600 s (expiry is whole seconds)
    }
    await client.endAsync();
    console.log(`[turn budget] 40 asks from one address: ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(statuses.get('200')).toBe(10);
    // The other 30: the budget, then ICE_RATE_LIMIT (30 requests a minute) for the last ten.
    expect((statuses.get('429 turn-budget') ?? 0) + (statuses.get('429 rate-limited') ?? 0)).toBe(30);
    expect(statuses.get('429 turn-budget')).toBeGreaterThanOrEqual(20);
    expect(await metric(server.url, 'tandem_turn_credentials_issued_total')).toBe(10);

    // The deployed limits are in the config coturn runs with.
    for (const line of ['max-bps=250000', 'user-quota=6', 'total-quota=1000']) expect(turn.config).toContain(line);
    // And a budget credential allocates on it (relaying to 127.0.0.1 is then
    // refused, 403, by the production denied-peer-ip rules, as it should be).
    const { username, credential } = credentials[0]!;
    await runUclient(bins!.uclient, ['-y', '-c', '-n', '1', '-p', String(turn.port), '-u', username, '-w', credential, '127.0.0.1']);
    await turn.waitForLog(new RegExp(`user <${username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}>: incoming packet ALLOCATE processed, success`));
  });
});
