import { describe, expect, it } from 'vitest';
import { issueToken, newSecret, TOKEN_LIFETIME_S, verifyToken } from './csrf.js';

describe('CSRF tokens', () => {
  const secret = newSecret();
  const now = Date.UTC(2026, 3, 2, 12);

  it('accepts a token it issued', () => {
    expect(verifyToken(secret, issueToken(secret, now), now)).toBe(true);
  });

  it('refuses a token of another instance, a missing or a tampered one', () => {
    expect(verifyToken(newSecret(), issueToken(secret, now), now)).toBe(false);
    expect(verifyToken(secret, undefined, now)).toBe(false);
    expect(verifyToken(secret, '', now)).toBe(false);
    const token = issueToken(secret, now);
    const [issuedAt, mac] = token.split('.') as [string, string];
    expect(verifyToken(secret, `${Number(issuedAt) + 1}.${mac}`, now)).toBe(false);
    expect(verifyToken(secret, `${issuedAt}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, now)).toBe(false);
  });

  it('expires', () => {
    const token = issueToken(secret, now);
    expect(verifyToken(secret, token, now + TOKEN_LIFETIME_S * 1000)).toBe(true);
    expect(verifyToken(secret, token, now + (TOKEN_LIFETIME_S + 1) * 1000)).toBe(false);
    expect(verifyToken(secret, issueToken(secret, now + 3_600_000), now)).toBe(false);
  });

  it('gives each instance its own secret', () => {
    expect(newSecret()).not.toBe(newSecret());
  });
});
