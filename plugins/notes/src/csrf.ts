import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens for the notes form: `<issued-at seconds>.<HMAC-SHA256(secret, issued-at)>`.
 *
 * The secret is per instance and never leaves the plugin, so only a page this instance
 * served can carry a valid token. The timestamp lets a token expire: a leaked copy of the
 * page stops working after TOKEN_LIFETIME_S instead of forever.
 */
export const TOKEN_LIFETIME_S = 24 * 60 * 60;

/** A fresh random per-instance secret. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function issueToken(secret: string, nowMs = Date.now()): string {
  const issuedAt = Math.floor(nowMs / 1000).toString();
  return `${issuedAt}.${mac(secret, issuedAt)}`;
}

/** Whether `token` was issued with `secret` and has not expired. Constant-time on the MAC. */
export function verifyToken(secret: string, token: string | null | undefined, nowMs = Date.now()): boolean {
  if (typeof token !== 'string') return false;
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (match === null) return false;
  const [, issuedAt, given] = match as unknown as [string, string, string];
  const age = Math.floor(nowMs / 1000) - Number(issuedAt);
  // A little slack for a clock that stepped back; never a token from the far future.
  if (age > TOKEN_LIFETIME_S || age < -300) return false;
  const expected = Buffer.from(mac(secret, issuedAt));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function mac(secret: string, issuedAt: string): string {
  return createHmac('sha256', secret).update(`flow-notes-form:${issuedAt}`).digest('base64url');
}
