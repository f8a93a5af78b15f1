/**
 * Starts a real, throwaway redis-server (Debian's `redis-server`) on a free
 * loopback port for a test: no persistence, its own temp dir as working dir.
 *
 *   const redis = await startRedis();          // throws if the binary is missing
 *   afterAll(() => redis.stop());
 *   startServer({ REDIS_URL: redis.url });
 *
 * Readiness is a PING answered with PONG, not a sleep. stop() ends exactly
 * the process it spawned (by PID) and removes the dir.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries';
import { exited, kill, stopper, track, untrack } from './daemon';
import { freePort } from './server';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  pid: number;
  dir: string;
  /** What redis-server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The binary, or null (with the reason printed) so a suite can `describe.skipIf`; throws in CI. */
export function findRedis(): string | null {
  return requireBinary('redis-server', { aptPackage: 'redis-server' });
}

/** One PING over a fresh TCP connection; true when Redis answers +PONG. */
export function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}





export async function startRedis(options: { startTimeoutMs?: number } = {}): Promise<RedisServer> {
  const binary = findRedis();
  if (binary === null) throw new Error('startRedis: redis-server is not installed (apt-get install -y redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-'));
  const failures: string[] = [];
  // A port can be taken between freePort() and Redis's bind: retry with a new one.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    track(child, dir);
    let out = '';
    const collect = (chunk: Buffer): void => {
      if (out.length < 20_000) out += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);

    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    let ready = false;
    while (!ready && !exited(child) && Date.now() < deadline) {
      ready = await pingRedis(port);
      if (!ready) await new Promise((r) => setTimeout(r, 25)); // poll interval while it boots, not a wait for an outcome
    }
    if (!ready) {
      await kill(child);
      untrack(child);
      failures.push(`attempt ${attempt} on port ${port}: exit=${child.exitCode}\n${out}`);
      continue;
    }

    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      pid: child.pid ?? -1,
      dir,
      output: () => out,
      stop: stopper(child, dir),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`startRedis: redis-server never answered PING\n${failures.join('\n---\n')}`);
}
