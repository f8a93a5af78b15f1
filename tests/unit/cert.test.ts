/** scripts/cert.ts (`npm run cert`), run as a user would, into a temp dir. */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../helpers/binaries';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const openssl = requireBinary('openssl', { aptPackage: 'openssl' });

function runCert(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cert.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** "IP Address:0:0:0:0:0:0:0:1" → the 16 bytes, so IPv6 spellings compare equal. */
function ipBytes(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => Number.parseInt(g, 16)).join(':');
}

describe.skipIf(openssl === null)('npm run cert', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-cert-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a matching key and certificate for localhost, 127.0.0.1 and the LAN addresses', () => {
    const dir = tempDir();
    const run = runCert(['--out', dir]);
    expect(run.status, run.stderr).toBe(0);

    const cert = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
    const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(statSync(join(dir, 'key.pem')).mode & 0o077).toBe(0);

    const san = (cert.subjectAltName ?? '').split(', ');
    expect(san).toContain('DNS:localhost');
    expect(san).toContain('IP Address:127.0.0.1');
    const ips = new Set(san.filter((e) => e.startsWith('IP Address:')).map((e) => ipBytes(e.slice(11))));
    const lan = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((info) => !info.internal)
      .map((info) => info.address.replace(/%.*$/, ''));
    for (const ip of lan) expect(ips, `SAN lacks ${ip}`).toContain(ipBytes(ip));

    expect(run.stdout).toContain(`TLS_CERT=${join(dir, 'cert.pem')} TLS_KEY=${join(dir, 'key.pem')} npm start`);
  });

  it('takes the directory from CERT_DIR and keeps a certificate that still fits', () => {
    const dir = tempDir();
    expect(runCert([], { CERT_DIR: dir }).status).toBe(0);
    const first = readFileSync(join(dir, 'cert.pem'), 'utf8');

    const again = runCert([], { CERT_DIR: dir });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('Kept');
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).toBe(first);

    expect(runCert(['--force'], { CERT_DIR: dir }).status).toBe(0);
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).not.toBe(first);
  });

  it('refuses unknown arguments', () => {
    const run = runCert(['--outdir', '/nowhere']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('unknown argument "--outdir"');
  });
});
