/**
 * Starts a real coturn (`turnserver`) on 127.0.0.1 for a test, in its own
 * temp dir with its own config, log, pidfile and SQLite userdb.
 *
 *   const turn = await startCoturn({ allowLoopbackPeers: true });
 *   afterAll(() => turn.stop());
 *
 * Without `configFile` the config is built here from scratch. With it (the
 * production `deploy/coturn/turnserver.conf`), that file's lines are kept
 * except the ones a loopback test must own (ports, addresses, TLS files,
 * realm, secret, file paths), which are replaced. `allow-loopback-peers` is
 * never removed from a given file and only added when asked for, so a
 * production file that contains it fails the tests that look for 403.
 *
 * Readiness is a real STUN Binding answered over UDP plus a TCP connect, not
 * a sleep. `stop()` ends exactly the process it spawned and removes the dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries';
import { exited, kill, stopper, track, untrack } from './daemon';

export interface CoturnOptions {
  /** A base config file (e.g. the production one); see the module comment. */
  configFile?: string;
  /** Lines appended last, e.g. ['user-quota=1']. */
  extraConfig?: string[];
  /** Test only: lets peers on 127.0.0.0/8 be relayed to (otherwise 403 Forbidden IP). */
  allowLoopbackPeers?: boolean;
  secret?: string;
  realm?: string;
  /** Give up waiting for the listener after this long (ms). */
  startTimeoutMs?: number;
}

export type TurnTransport = 'udp' | 'tcp';

export interface Coturn {
  port: number;
  secret: string;
  realm: string;
  /** The PID spawned here; the only process `stop()` signals. */
  pid: number;
  dir: string;
  configPath: string;
  /** The effective config as written. */
  config: string;
  logFile: string;
  url(transport: TurnTransport): string;
  readLog(): Promise<string>;
  /** Resolves with the log once it matches (coturn writes it asynchronously). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Keys this harness sets itself, so a base file's values are dropped: TLS
 * files and ports (tests run with no-tls/no-dtls), anything binding a
 * non-loopback address, anything writing outside the temp dir, and
 * proc-user (dropping privileges would lock it out of its own temp files).
 */
const OWNED_KEYS = new Set([
  'listening-port', 'tls-listening-port', 'alt-listening-port', 'alt-tls-listening-port',
  'listening-ip', 'listening-device', 'relay-ip', 'relay-device', 'external-ip', 'aux-server',
  'cert', 'pkey', 'pkey-pwd', 'ca-file', 'dh-file',
  'realm', 'static-auth-secret', 'use-auth-secret',
  'log-file', 'syslog', 'simple-log', 'no-stdout-log', 'pidfile', 'userdb', 'db',
  'min-port', 'max-port', 'proc-user', 'proc-group', 'verbose', 'Verbose', 'daemon',
  'web-admin', 'prometheus', 'cli-ip', 'cli-port',
]);

function configKey(line: string): string | null {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  return trimmed.replace(/^--?/, '').split(/[=\s]/, 1)[0] ?? null;
}

/** The base file's directives minus the ones this harness owns. */
export function inheritedLines(configText: string): string[] {
  const lines: string[] = [];
  for (const line of configText.split('\n')) {
    const key = configKey(line);
    if (key !== null && !OWNED_KEYS.has(key)) lines.push(line.trim());
  }
  return lines;
}

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** A port free for both TCP and UDP on 127.0.0.1 (coturn listens on both). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
      });
    });
    if (await canBindUdp(port)) return port;
  }
  throw new Error('freePort: no port free for both TCP and UDP after 20 tries');
}

/** A STUN Binding request (RFC 8489 §5): type 0x0001, length 0, magic cookie, 96-bit id. */
function stunBindingOk(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const id = randomBytes(12);
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt32BE(0x2112a442, 4);
    id.copy(request, 8);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('message', (msg) => {
      // 0x0101 = Binding success response; the transaction id must echo ours.
      if (msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(id)) done(true);
    });
    socket.send(request, port, '127.0.0.1');
  });
}

function tcpConnectOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}




interface Attempt {
  child: ChildProcess;
  port: number;
  config: string;
  stderr: () => string;
}

async function launch(binary: string, dir: string, options: CoturnOptions, secret: string, realm: string): Promise<Attempt> {
  const port = await freePort();
  // Relay ports below Linux's ephemeral range (32768+), where freePort() and
  // every client socket land, in a block picked at random per instance.
  const relayMin = 20_000 + 100 * randomInt(0, 120);
  const base = options.configFile ? inheritedLines(readFileSync(options.configFile, 'utf8')) : [];
  const lines = [
    ...(options.configFile ? [`# inherited from ${options.configFile}`, ...base, '# test overrides'] : []),
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${port}`,
    `min-port=${relayMin}`,
    `max-port=${relayMin + 99}`,
    `realm=${realm}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-multicast-peers',
    ...(options.allowLoopbackPeers ? ['allow-loopback-peers'] : []),
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    `log-file=${join(dir, 'turn.log')}`,
    'simple-log', // exactly that file name: no PID/date suffix
    'no-stdout-log',
    'verbose', // per-session lines (401s, 403s) the tests read
    ...(options.extraConfig ?? []),
  ];
  const config = `${lines.join('\n')}\n`;
  writeFileSync(join(dir, 'turnserver.conf'), config, { mode: 0o600 });
  rmSync(join(dir, 'turn.log'), { force: true });

  const child = spawn(binary, ['-c', join(dir, 'turnserver.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  track(child, dir);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 10_000) stderr += chunk.toString();
  });
  return { child, port, config, stderr: () => stderr };
}

async function waitUntilListening(attempt: Attempt, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (exited(attempt.child)) return false;
    // Each probe waits up to 200 ms for an answer: this is the poll interval.
    if ((await stunBindingOk(attempt.port, 200)) && (await tcpConnectOk(attempt.port))) return true;
  }
  return false;
}


export async function startCoturn(options: CoturnOptions = {}): Promise<Coturn> {
  const binary = requireBinary('turnserver', { aptPackage: 'coturn' });
  if (binary === null) throw new Error('startCoturn: turnserver is not installed (apt-get install -y coturn)');
  const secret = options.secret ?? randomBytes(24).toString('hex');
  const realm = options.realm ?? 'tandem.test';
  const dir = mkdtempSync(join(tmpdir(), 'tandem-coturn-'));
  const logFile = join(dir, 'turn.log');
  const readLog = (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');

  // A port can be taken between freePort() and coturn's bind: retry with a new one.
  let attempt: Attempt | null = null;
  const failures: string[] = [];
  for (let i = 0; i < 3 && attempt === null; i++) {
    const candidate = await launch(binary, dir, options, secret, realm);
    if (await waitUntilListening(candidate, Date.now() + (options.startTimeoutMs ?? 10_000))) {
      attempt = candidate;
    } else {
      await kill(candidate.child);
      untrack(candidate.child);
      const log = await readLog();
      failures.push(`attempt ${i + 1} on port ${candidate.port}: exit=${candidate.child.exitCode}\n${candidate.stderr()}\n${log.slice(-3000)}`);
    }
  }
  if (attempt === null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`startCoturn: turnserver never answered STUN\n${failures.join('\n---\n')}`);
  }

  const { child, port, config } = attempt;
  return {
    port,
    secret,
    realm,
    pid: child.pid ?? -1,
    dir,
    configPath: join(dir, 'turnserver.conf'),
    config,
    logFile,
    url: (transport) => `turn:127.0.0.1:${port}?transport=${transport}`,
    readLog,
    async waitForLog(pattern, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const log = await readLog();
        if (pattern.test(log)) return log;
        if (Date.now() >= deadline) throw new Error(`coturn log never matched ${pattern}; tail:\n${log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50)); // poll interval of a file read, not a wait for an outcome
      }
    },
    stop: stopper(child, dir),
  };
}

export interface UclientResult {
  /** Exit code; null when it was killed by the timeout. */
  code: number | null;
  timedOut: boolean;
  output: string;
}

/**
 * Runs turnutils_uclient and collects stdout+stderr. It never hangs a test:
 * past `timeoutMs` it is SIGKILLed and `timedOut` is set.
 */
export function runUclient(binary: string, args: string[], timeoutMs = 15_000): Promise<UclientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const collect = (chunk: Buffer): void => {
      if (output.length < 200_000) output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, output });
    });
  });
}
