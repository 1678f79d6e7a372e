import { createPrivateKey, X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Server as HttpsServer } from 'node:https';
import { FlowError } from '../errors.js';
import type { Logger } from '../log.js';

export interface CertFiles {
  /** Absolute paths. */
  certfile: string;
  certkey: string;
}

export interface CertPair {
  cert: Buffer;
  key: Buffer;
  /** The leaf certificate's expiry, for the log. */
  validTo: string;
}

const bad = (msg: string) => new FlowError('FLOW_ERR_CONFIG_INVALID', msg);

async function readPem(file: string, key: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw bad(`${key}: ${file} does not exist`);
    throw bad(`${key}: cannot read ${file} (${code ?? (err as Error).message})`);
  }
}

/**
 * Reads and checks a certificate and its key, so a bad pair is refused with the file named
 * (at start: exit 2; on reload: the old pair stays) instead of every TLS handshake failing:
 * missing or unreadable file, not PEM, expired or not yet valid, key not matching.
 */
export async function loadCertPair(files: CertFiles, now = new Date()): Promise<CertPair> {
  if (files.certfile === '' || files.certkey === '') throw bad('server.ssl.enabled needs server.ssl.certfile and server.ssl.certkey');
  const cert = await readPem(files.certfile, 'server.ssl.certfile');
  const key = await readPem(files.certkey, 'server.ssl.certkey');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw bad(`server.ssl.certfile: ${files.certfile} is not a PEM certificate (${(err as Error).message})`);
  }
  if (new Date(x509.validTo) < now) throw bad(`server.ssl.certfile: the certificate in ${files.certfile} expired on ${new Date(x509.validTo).toISOString()}`);
  if (new Date(x509.validFrom) > now) throw bad(`server.ssl.certfile: the certificate in ${files.certfile} is not valid before ${new Date(x509.validFrom).toISOString()}`);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw bad(`server.ssl.certkey: ${files.certkey} is not a PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw bad(`server.ssl.certkey: the key in ${files.certkey} does not match the certificate in ${files.certfile}`);
  return { cert, key, validTo: new Date(x509.validTo).toISOString() };
}

/**
 * Reloads the pair into the running HTTPS server when either file changes (certbot renewals,
 * a sidecar writing new files). The folders are watched, not the files: renewals replace files
 * by rename or swap symlinks, which a watch on the old inode never sees. A pair that fails its
 * checks (half written, key not matching yet) is logged and the current one kept; the next
 * change tries again.
 */
export function watchCertPair(server: HttpsServer, files: CertFiles, log: Logger, debounceMs = 200): { close(): void } {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let lastError = '';
  const reload = async () => {
    try {
      const pair = await loadCertPair(files);
      if (closed) return;
      server.setSecureContext({ cert: pair.cert, key: pair.key });
      lastError = '';
      log.info({ certfile: files.certfile, validTo: pair.validTo }, 'TLS certificate reloaded');
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== lastError) log.warn(`TLS certificate not reloaded, keeping the current one: ${msg}`);
      lastError = msg;
    }
  };
  const names = new Set([path.basename(files.certfile), path.basename(files.certkey)]);
  for (const dir of new Set([path.dirname(files.certfile), path.dirname(files.certkey)])) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms give no name; then any change in the folder counts.
        if (name !== null && !names.has(String(name)) && !String(name).startsWith('..')) return;
        clearTimeout(timer);
        timer = setTimeout(() => void reload(), debounceMs);
      });
      w.on('error', () => w.close());
      watchers.push(w);
    } catch (err) {
      log.warn({ dir }, `cannot watch ${dir}: a renewed certificate needs a restart (${(err as Error).message})`);
    }
  }
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
