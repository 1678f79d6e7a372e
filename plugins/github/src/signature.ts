import { createHmac, timingSafeEqual } from 'node:crypto';

/** The `X-Hub-Signature-256` value GitHub sends for `body` signed with `secret`. */
export function sign(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether `header` is GitHub's signature of the raw `body` with `secret`.
 *
 * The comparison is constant-time over equal-length buffers, so response timing tells an
 * attacker nothing about how much of a forged signature was right. An empty secret never
 * verifies: an unconfigured receiver must not accept unsigned deliveries.
 */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (secret === '' || header === undefined) return false;
  const expected = Buffer.from(sign(secret, body), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
