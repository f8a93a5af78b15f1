/**
 * Lifecycle of the daemons the test harnesses spawn (coturn, Redis,
 * Mosquitto): exit checks, graceful-then-forced kill by PID, one idempotent
 * stop(), and a last-resort exit hook so a crashed test process leaves none of
 * them running.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL if it hasn't exited within 5 s. */
export async function kill(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, 5000)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5000);
}

// If the test process dies without stop() (a crash, a killed worker), kill
// what the harnesses spawned, and nothing else, and remove their temp dirs.
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

export function track(child: ChildProcess, dir: string): void {
  live.set(child, dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [proc, procDir] of live) {
      if (!exited(proc)) proc.kill('SIGKILL');
      rmSync(procDir, { recursive: true, force: true });
    }
  });
}

export function untrack(child: ChildProcess): void {
  live.delete(child);
}

/**
 * The `stop()` every harness returns: kill the daemon, forget it, remove its
 * temp dir. Idempotent: later calls get the first call's promise, so an
 * afterEach and a test that already stopped it don't race.
 */
export function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  let stopped: Promise<void> | null = null;
  return () =>
    (stopped ??= (async () => {
      await kill(child);
      untrack(child);
      rmSync(dir, { recursive: true, force: true });
    })());
}
