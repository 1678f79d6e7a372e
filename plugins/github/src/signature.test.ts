import { describe, expect, it } from 'vitest';
import { sign, verifySignature } from './signature.js';

describe('verifySignature', () => {
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');

  it("matches GitHub's documented example", () => {
    // From GitHub's "Validating webhook deliveries" docs: same secret, same payload.
    expect(sign(secret, body)).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
    expect(verifySignature(secret, body, sign(secret, body))).toBe(true);
  });

  it('refuses a missing, malformed or wrong signature', () => {
    expect(verifySignature(secret, body, undefined)).toBe(false);
    expect(verifySignature(secret, body, '')).toBe(false);
    expect(verifySignature(secret, body, 'sha256=abc')).toBe(false);
    expect(verifySignature(secret, body, sign('another secret', body))).toBe(false);
    expect(verifySignature(secret, Buffer.from('Hello, World?'), sign(secret, body))).toBe(false);
  });

  it('never verifies with an empty secret', () => {
    expect(verifySignature('', body, sign('', body))).toBe(false);
  });
});
