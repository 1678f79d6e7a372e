import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Short-lived values sealed with AES-256-GCM: the pending OIDC login (state, nonce, PKCE
 * verifier, redirect URI, client name) travels with the browser (a cookie) or the app (the
 * `state` it sends back) instead of living in one server's memory. Gotify 3 keeps it in a
 * per-process map, so a callback that reaches another replica fails (gotify/server#1034); a
 * sealed value opens on any replica that shares the key. The expiry is inside the sealed bytes,
 * so a stolen or replayed value is useless after `maxAgeMs`, and nothing grows on the server.
 */
export class Sealer {
  private readonly key: Buffer;

  /**
   * `secret` is shared by every replica through their configuration (the OIDC client secret);
   * without one (a public client) each process draws its own key, which is then not replica-safe.
   */
  constructor(secret: string, label: string) {
    const ikm = secret === '' ? randomBytes(32) : Buffer.from(secret, 'utf8');
    this.key = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), `flow ${label}`, 32));
  }

  /** base64url(iv ‖ tag ‖ ciphertext) of `{v: value, exp}`. */
  seal(value: unknown, maxAgeMs: number, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const plain = Buffer.from(JSON.stringify({ v: value, exp: now + maxAgeMs }), 'utf8');
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The value, or undefined when the text was not sealed by this key, was altered or has expired. */
  open<T>(text: string, now = Date.now()): T | undefined {
    if (text.length > 8192) return undefined;
    const raw = Buffer.from(text, 'base64url');
    if (raw.length < 12 + 16 + 1) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const { v, exp } = JSON.parse(plain) as { v: T; exp: number };
      return typeof exp === 'number' && exp > now ? v : undefined;
    } catch {
      return undefined;
    }
  }
}
