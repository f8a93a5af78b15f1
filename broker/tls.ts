/**
 * HTTPS for the main server: phones grant the camera only on a secure
 * context, so a LAN or self-hosted install without a reverse proxy needs TLS
 * here (`npm run cert` makes a certificate for that).
 *
 * The files are read and checked once at start, so a wrong path or a key
 * that does not belong to the certificate stops the server with the variable
 * named, instead of every TLS handshake failing later.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsConfig {
  certPath: string;
  keyPath: string;
  /** PEM: the certificate, then any intermediates (as `npm run cert` or certbot's fullchain.pem). */
  cert: Buffer;
  /** PEM private key. Never logged (see log.ts redact paths). */
  key: Buffer;
}

export type TlsVariable = 'TLS_CERT' | 'TLS_KEY';

/** A TLS file that cannot be used, with the variable that named it. */
export class TlsFileError extends Error {
  constructor(
    readonly variable: TlsVariable,
    message: string,
  ) {
    super(message);
    this.name = 'TlsFileError';
  }
}

export function readTlsFiles(certPath: string, keyPath: string): TlsConfig {
  const cert = readPem('TLS_CERT', certPath);
  const key = readPem('TLS_KEY', keyPath);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new TlsFileError('TLS_CERT', `${certPath} is not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // Not the parser's message: it can quote the file's content.
    throw new TlsFileError('TLS_KEY', `${keyPath} is not an unencrypted PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsFileError('TLS_KEY', `${keyPath} is not the private key of the certificate in ${certPath}`);
  }
  return { certPath, keyPath, cert, key };
}

function readPem(variable: TlsVariable, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TlsFileError(variable, `cannot read ${path} (${code})`);
  }
}
