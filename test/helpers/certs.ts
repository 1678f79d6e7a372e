/**
 * Test certificates made with the openssl CLI: a self-signed P-256 certificate for localhost /
 * 127.0.0.1 (valid for a day, or over given dates through `openssl ca`, for expired ones).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCert {
  cert: string;
  key: string;
}

const SUBJECT = ['-subj', '/CN=localhost'];
const SAN = 'subjectAltName=IP:127.0.0.1,DNS:localhost';

/** A fresh key and self-signed certificate; `dates` (YYYYMMDDHHMMSSZ) for one outside today. */
export async function makeCert(dates?: { start: string; end: string }): Promise<TestCert> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-cert-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
  if (!dates) {
    execFileSync('openssl', ['req', '-x509', '-key', key, '-out', cert, '-days', '1', ...SUBJECT, '-addext', SAN], { stdio: 'pipe' });
  } else {
    await writeFile(path.join(dir, 'index.txt'), '');
    await writeFile(path.join(dir, 'serial'), '01\n');
    await writeFile(
      path.join(dir, 'ca.cnf'),
      `[ca]\ndefault_ca = d\n[d]\ndir = ${dir}\ndatabase = ${dir}/index.txt\nnew_certs_dir = ${dir}\nserial = ${dir}/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n`,
    );
    const csr = path.join(dir, 'csr.pem');
    execFileSync('openssl', ['req', '-new', '-key', key, '-out', csr, ...SUBJECT], { stdio: 'pipe' });
    execFileSync('openssl', ['ca', '-batch', '-notext', '-config', path.join(dir, 'ca.cnf'), '-selfsign', '-keyfile', key, '-in', csr, '-out', cert, '-startdate', dates.start, '-enddate', dates.end], { stdio: 'pipe' });
  }
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
}
