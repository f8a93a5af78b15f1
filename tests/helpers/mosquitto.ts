/**
 * Starts a real Mosquitto (Debian's `mosquitto` 2.0.11) for a test or a
 * benchmark, in its own temp dir with its own config:
 *
 *   const mosquitto = await startMosquitto();                       // anonymous, no ACL
 *   const strict = await startMosquitto({ configFile: 'deploy/mosquitto/mosquitto.conf' });
 *   mqtt.connect(mosquitto.wsUrl, …);
 *   afterAll(() => mosquitto.stop());
 *
 * Listeners (ENVIRONMENT.md): a WebSocket listener for the app and a loopback
 * TCP listener, both on 127.0.0.1 with `socket_domain ipv4`; 2.0.11 exits when
 * its only listener is a WebSocket one, and binds it to every interface
 * without the loopback TCP listener. Started as root, Mosquitto drops to user
 * `mosquitto`, so the dir and files are made readable by it; it logs to
 * stdout, which this module collects, so it needs no writable path.
 *
 * With `configFile`, the lines before that file's first `listener` are kept
 * (minus the paths this harness owns; its `acl_file` is resolved against the
 * file's own dir and copied in), and the loopback listeners are this
 * harness's. Readiness is a real MQTT CONNACK over the WebSocket listener,
 * not a sleep. stop() ends exactly the process it spawned (by PID).
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { requireBinary } from './binaries';
import { exited, kill, stopper, track, untrack } from './daemon';
import { freePort } from './server';

export interface MosquittoOptions {
  /** A production-style config whose general settings (before the first `listener`) are kept. */
  configFile?: string;
  /** More lines for the general section, e.g. `max_connections -1`. */
  extraConfig?: string[];
  startTimeoutMs?: number;
}

export interface Mosquitto {
  /** ws://127.0.0.1:<port> (Mosquitto serves MQTT on any path). */
  wsUrl: string;
  wsPort: number;
  /** mqtt://127.0.0.1:<port> */
  tcpUrl: string;
  tcpPort: number;
  pid: number;
  dir: string;
  /** The config it was started with. */
  config: string;
  /** What Mosquitto logged (connections, refusals), for assertions and failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The binary, or null (with the reason printed) so a suite can `describe.skipIf`; throws in CI. */
export function findMosquitto(): string | null {
  return requireBinary('mosquitto', { aptPackage: 'mosquitto' });
}

/** Keys this harness sets itself; a given config file's values for them are dropped. */
const OWNED_KEYS = new Set(['listener', 'port', 'bind_address', 'protocol', 'socket_domain', 'log_dest', 'pid_file', 'persistence_location', 'persistence_file', 'user', 'acl_file', 'password_file', 'include_dir']);

/** The general section of a Mosquitto config (before its first `listener`), minus OWNED_KEYS, plus its acl_file path. */
export function generalSection(configText: string): { lines: string[]; aclFile: string | null } {
  const lines: string[] = [];
  let aclFile: string | null = null;
  for (const raw of configText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key = '', ...rest] = line.split(/\s+/);
    if (key === 'listener') break;
    if (key === 'acl_file') aclFile = rest.join(' ');
    if (!OWNED_KEYS.has(key)) lines.push(line);
  }
  return { lines, aclFile };
}





/** True once an MQTT client gets a CONNACK over `url`. */
function mqttAnswers(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: timeoutMs, clientId: `probe-${process.pid}-${Date.now()}` });
    const done = (ok: boolean): void => {
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      resolve(ok);
    };
    client.once('connect', () => done(true));
    client.once('error', () => done(false));
    client.once('close', () => done(false));
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const binary = findMosquitto();
  if (binary === null) throw new Error('startMosquitto: mosquitto is not installed (apt-get install -y mosquitto)');
  const dir = mkdtempSync(join(tmpdir(), 'tandem-mosquitto-'));
  // Readable (not writable) by the `mosquitto` user it drops to when started as root.
  chmodSync(dir, 0o755);

  const general: string[] = [];
  if (options.configFile) {
    const source = resolve(options.configFile);
    const { lines, aclFile } = generalSection(readFileSync(source, 'utf8'));
    general.push(`# general settings of ${source}`, ...lines);
    if (aclFile !== null) {
      // The file's acl_file is a production path (/etc/mosquitto/…); use the copy next to it.
      const local = join(dirname(source), basename(aclFile));
      const acl = join(dir, 'acl');
      copyFileSync(isAbsolute(aclFile) ? local : resolve(dirname(source), aclFile), acl);
      chmodSync(acl, 0o644);
      general.push(`acl_file ${acl}`);
    }
  } else {
    general.push('per_listener_settings false', 'allow_anonymous true', 'persistence false');
  }
  general.push(...(options.extraConfig ?? []));

  const failures: string[] = [];
  // A port can be taken between freePort() and Mosquitto's bind: retry with new ones.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [tcpPort, wsPort] = [await freePort(), await freePort()];
    const config = [
      ...general,
      '# harness: log to stdout (collected), loopback listeners only',
      'log_dest stdout',
      `listener ${tcpPort} 127.0.0.1`,
      'socket_domain ipv4',
      `listener ${wsPort} 127.0.0.1`,
      'protocol websockets',
      'socket_domain ipv4',
      '',
    ].join('\n');
    const configPath = join(dir, 'mosquitto.conf');
    writeFileSync(configPath, config);
    chmodSync(configPath, 0o644);

    const child = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child, dir);
    let out = '';
    const collect = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);

    const wsUrl = `ws://127.0.0.1:${wsPort}`;
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    let ready = false;
    while (!ready && !exited(child) && Date.now() < deadline) {
      ready = await mqttAnswers(wsUrl, 500);
      if (!ready) await new Promise((r) => setTimeout(r, 25)); // poll interval while it boots, not a wait for an outcome
    }
    if (!ready) {
      await kill(child);
      untrack(child);
      failures.push(`attempt ${attempt} (ports ${tcpPort}, ${wsPort}): exit=${child.exitCode}\n${out.slice(-3000)}`);
      continue;
    }

    return {
      wsUrl,
      wsPort,
      tcpUrl: `mqtt://127.0.0.1:${tcpPort}`,
      tcpPort,
      pid: child.pid ?? -1,
      dir,
      config,
      output: () => out,
      stop: stopper(child, dir),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`startMosquitto: mosquitto never answered CONNECT\n${failures.join('\n---\n')}`);
}
