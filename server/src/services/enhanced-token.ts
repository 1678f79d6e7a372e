import { randomBytes } from 'node:crypto';
import { ed25519, ed25519ph } from '@noble/curves/ed25519.js';

/**
 * Gotify 3's "enhanced" tokens (auth/token.go in gotify/server 3.x): `gtfy` + an ident (`a` for
 * applications, `c` for clients) + `.` + base64url (no padding) of an Ed25519 key.
 *
 * - private form `gtfya.<32-byte seed>`: what the owner holds;
 * - public form `gtfya.<32-byte public key>`: the only thing the server stores;
 * - signed form `gtfya.<public key>.<unix seconds>.<signature>`: a client proves it holds the
 *   seed without sending it; the signature is Ed25519ph (RFC 8032, pre-hashed with SHA-512,
 *   empty context) over `iat=<unix seconds>`, accepted within ±15 minutes of the server's clock.
 *
 * The server looks a presented token up by its public form, so importing Gotify's table as is
 * keeps every enhanced token working.
 */
export const ENHANCED_PREFIX = 'gtfy';
const MAX_TIMESTAMP_DIFF_SECONDS = 15 * 60;

export type EnhancedTokenCheck =
  | { ok: true; publicForm: string }
  /** `unparsable`: Gotify answers 401 with the parse error; `invalid`: a bad signature or stale timestamp (401). */
  | { ok: false; reason: 'unparsable' | 'invalid'; detail: string };

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** Go's base64.RawURLEncoding: URL alphabet, no padding; anything else is refused. */
function decodeRaw(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // A canonical encoding round-trips (rejects non-zero trailing bits, as Go's strict decoder would not, but harmlessly).
  return b64(bytes) === text ? new Uint8Array(bytes) : undefined;
}

export const isEnhancedToken = (token: string): boolean => token.startsWith(ENHANCED_PREFIX);

/** Parses and verifies a presented enhanced token; `nowSeconds` is the server's clock. */
export function checkEnhancedToken(token: string, nowSeconds = Math.floor(Date.now() / 1000)): EnhancedTokenCheck {
  if (!token.startsWith(ENHANCED_PREFIX)) return { ok: false, reason: 'unparsable', detail: 'token must start with gtfy' };
  const fields = token.slice(ENHANCED_PREFIX.length).split('.');
  if (fields.length !== 2 && fields.length !== 4) {
    return { ok: false, reason: 'unparsable', detail: 'token must have 2 or 4 fields separated by dots' };
  }
  const [ident, keyText] = fields as [string, string];
  const key = decodeRaw(keyText);
  if (!key) return { ok: false, reason: 'unparsable', detail: 'base64 decode failed' };
  if (key.length !== 32) return { ok: false, reason: 'unparsable', detail: fields.length === 2 ? 'private key must be 32 bytes' : 'public key must be 32 bytes' };
  if (fields.length === 2) {
    return { ok: true, publicForm: `${ENHANCED_PREFIX}${ident}.${b64(ed25519.getPublicKey(key))}` };
  }
  const [, , tsText, sigText] = fields as [string, string, string, string];
  if (!/^-?\d+$/.test(tsText)) return { ok: false, reason: 'unparsable', detail: 'timestamp must be an integer' };
  const sig = decodeRaw(sigText);
  if (!sig || sig.length !== 64) return { ok: false, reason: 'unparsable', detail: 'signature must be 64 bytes' };
  let valid = false;
  try {
    valid = ed25519ph.verify(sig, new TextEncoder().encode(`iat=${tsText}`), key);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'invalid', detail: 'invalid token' };
  const ts = Number(tsText);
  if (ts < nowSeconds - MAX_TIMESTAMP_DIFF_SECONDS || ts > nowSeconds + MAX_TIMESTAMP_DIFF_SECONDS) {
    return { ok: false, reason: 'invalid', detail: 'token timestamp is outside the accepted window' };
  }
  return { ok: true, publicForm: `${ENHANCED_PREFIX}${ident}.${keyText}` };
}

/** A new enhanced token pair for `ident` (`a` or `c`): store `publicForm`, hand out `privateForm` once. */
export function newEnhancedToken(ident: 'a' | 'c'): { publicForm: string; privateForm: string } {
  const seed = new Uint8Array(randomBytes(32));
  return {
    publicForm: `${ENHANCED_PREFIX}${ident}.${b64(ed25519.getPublicKey(seed))}`,
    privateForm: `${ENHANCED_PREFIX}${ident}.${b64(seed)}`,
  };
}

/** The signed form of a private token at `timestamp` (what a Gotify 3 client may send instead of the seed). */
export function signEnhancedToken(privateForm: string, timestamp: number): string {
  const dot = privateForm.indexOf('.');
  const ident = privateForm.slice(ENHANCED_PREFIX.length, dot);
  const seed = decodeRaw(privateForm.slice(dot + 1));
  if (!privateForm.startsWith(ENHANCED_PREFIX) || dot < 0 || !seed || seed.length !== 32) throw new Error('not a private enhanced token');
  const sig = ed25519ph.sign(new TextEncoder().encode(`iat=${timestamp}`), seed);
  return `${ENHANCED_PREFIX}${ident}.${b64(ed25519.getPublicKey(seed))}.${timestamp}.${b64(sig)}`;
}
