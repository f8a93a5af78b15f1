/**
 * Finds the system binaries that integration tests drive (coturn, redis,
 * mosquitto, openssl, …).
 *
 * Locally a missing binary skips the tests that need it, with the reason
 * printed. In CI (`CI=true`, set by the runner) it throws instead: a skipped
 * suite there would pass without testing anything, and `.ci/run` is supposed
 * to have installed everything.
 *
 *   const redis = requireBinary('redis-server', { aptPackage: 'redis-server' });
 *   describe.skipIf(redis === null)('cluster', () => { … });
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface RequireBinaryOptions {
  /** Debian package that provides it, named in the message. */
  aptPackage?: string;
}

/** Debian puts daemons in sbin dirs, which a non-root PATH often lacks. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `name` (searched on PATH, then the usual bin dirs), or null. */
export function findBinary(name: string): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function isCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * The path of `name`; when it is missing, throws in CI and otherwise prints
 * why and returns null so the caller can skip.
 */
export function requireBinary(name: string, options: RequireBinaryOptions = {}): string | null {
  const found = findBinary(name);
  if (found !== null) return found;
  const install = options.aptPackage ? ` (apt-get install -y ${options.aptPackage})` : '';
  if (isCi()) {
    throw new Error(`${name} not found on PATH${install}; CI must install it, so this is a failure, not a skip`);
  }
  console.warn(`[skip] ${name} not found on PATH${install}; skipping the tests that need it`);
  return null;
}

export interface Turnutils {
  turnserver: string;
  uclient: string;
}

/** coturn's server and test client, both from Debian's `coturn` package. */
export function findTurnutils(): Turnutils | null {
  const turnserver = requireBinary('turnserver', { aptPackage: 'coturn' });
  const uclient = requireBinary('turnutils_uclient', { aptPackage: 'coturn' });
  return turnserver !== null && uclient !== null ? { turnserver, uclient } : null;
}
