/**
 * `npm run cert`: a self-signed certificate for trying Tandem from a phone on
 * the LAN. Browsers only grant camera/microphone on a secure context, and
 * http://192.168.x.y is not one, so the server needs TLS there.
 *
 * The subjectAltName lists localhost, 127.0.0.1, ::1 and every non-internal
 * address of this machine. An existing certificate is kept when it still
 * covers all of them and is not about to expire (phones that already accepted
 * it keep working); `--force` makes a new one.
 *
 *   npm run cert                     # writes .cert/key.pem and .cert/cert.pem
 *   npm run cert -- --out /tmp/c     # or CERT_DIR=/tmp/c npm run cert
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';

// iOS refuses TLS server certificates valid for more than 825 days.
const VALID_DAYS = 825;
const RENEW_WITHIN_MS = 30 * 24 * 3600 * 1000;

interface Args {
  outDir: string;
  force: boolean;
}

function parseArgs(argv: string[]): Args {
  let outDir = process.env.CERT_DIR ?? '.cert';
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--force') force = true;
    else if (arg === '--out') {
      const value = argv[++i];
      if (value === undefined) throw new Error('--out needs a directory');
      outDir = value;
    } else if (arg?.startsWith('--out=')) outDir = arg.slice('--out='.length);
    else throw new Error(`unknown argument "${arg}" (expected --out DIR, --force)`);
  }
  return { outDir: resolve(outDir), force };
}

/** Non-internal IPv4/IPv6 addresses, the ones a phone on the LAN can reach. */
function lanAddresses(): string[] {
  const found = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      // The zone (%eth0) of a link-local address is not part of it.
      if (!info.internal) found.add(info.address.replace(/%.*$/, ''));
    }
  }
  return [...found];
}

/** X509Certificate prints IPv6 SAN entries expanded (0:0:…:1); compare by bytes. */
function ipKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => Number.parseInt(g, 16).toString(16)).join(':');
}

function coversAll(certPath: string, ips: string[]): boolean {
  try {
    const cert = new X509Certificate(readFileSync(certPath));
    if (Date.parse(cert.validTo) - Date.now() < RENEW_WITHIN_MS) return false;
    const san = cert.subjectAltName ?? '';
    const have = new Set(san.split(', ').filter((e) => e.startsWith('IP Address:')).map((e) => ipKey(e.slice(11))));
    return san.includes('DNS:localhost') && ips.every((ip) => have.has(ipKey(ip)));
  } catch {
    return false;
  }
}

function requireOpenssl(): void {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('openssl is not installed (apt-get install -y openssl); it is needed to make the certificate');
  }
}

function generate(outDir: string, ips: string[]): void {
  const san = ['DNS:localhost', ...ips.map((ip) => `IP:${ip}`)].join(',');
  const result = spawnSync(
    'openssl',
    [
      'req', '-x509', '-nodes',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', // P-256: every browser, small and fast
      '-keyout', join(outDir, 'key.pem'),
      '-out', join(outDir, 'cert.pem'),
      '-days', String(VALID_DAYS),
      '-subj', '/CN=Tandem development',
      '-addext', `subjectAltName=${san}`,
      // A leaf, not a CA: Firefox rejects a self-signed CA certificate used as a server's.
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', 'extendedKeyUsage=serverAuth',
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new Error(`openssl req failed: ${result.error?.message ?? result.stderr}`);
  }
}

function main(): void {
  const { outDir, force } = parseArgs(process.argv.slice(2));
  const lan = lanAddresses();
  const ips = ['127.0.0.1', '::1', ...lan];
  const certPath = join(outDir, 'cert.pem');
  const keyPath = join(outDir, 'key.pem');

  if (!force && existsSync(keyPath) && coversAll(certPath, ips)) {
    console.log(`Kept ${certPath}: it already covers ${ips.join(', ')} (use --force for a new one).`);
  } else {
    requireOpenssl();
    mkdirSync(outDir, { recursive: true, mode: 0o700 });
    generate(outDir, ips);
    console.log(`Wrote ${certPath} and ${keyPath} for localhost, ${ips.join(', ')}.`);
  }

  const show = (p: string): string => {
    const rel = relative(process.cwd(), p);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
  };
  const port = process.env.PORT ?? '3000';
  console.log('\nStart the server with TLS, listening on the LAN (the default HOST is 127.0.0.1):');
  console.log(`  HOST=0.0.0.0 TLS_CERT=${show(certPath)} TLS_KEY=${show(keyPath)} npm start`);
  console.log('\nThen open one of these on the phone and accept the certificate warning:');
  // Link-local IPv6 needs a zone id (%wlan0) that browsers won't take in a URL.
  const reachable = lan.filter((ip) => !/^fe[89ab]/i.test(ip));
  for (const ip of reachable) console.log(`  https://${ip.includes(':') ? `[${ip}]` : ip}:${port}/`);
  if (reachable.length === 0) console.log('  (no LAN address found: is this machine on a network?)');
  console.log(`  https://localhost:${port}/  (this machine)`);
}

try {
  main();
} catch (err) {
  console.error(`cert: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
