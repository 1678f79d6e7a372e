import { describe, expect, it } from 'vitest';
import { Sealer } from './sealed.js';

describe('Sealer', () => {
  it('opens what it sealed until it expires', () => {
    const s = new Sealer('client-secret', 'test');
    const text = s.seal({ a: 1 }, 1000, 10_000);
    expect(s.open(text, 10_999)).toEqual({ a: 1 });
    expect(s.open(text, 11_000)).toBeUndefined();
  });

  it('opens on another instance with the same secret and label (another replica), not with another label or secret', () => {
    const text = new Sealer('client-secret', 'browser').seal('x', 60_000);
    expect(new Sealer('client-secret', 'browser').open(text)).toBe('x');
    expect(new Sealer('client-secret', 'app').open(text)).toBeUndefined();
    expect(new Sealer('other-secret', 'browser').open(text)).toBeUndefined();
  });

  it('refuses altered, truncated, empty and oversized texts', () => {
    const s = new Sealer('k', 'test');
    const text = s.seal({ state: 'abc' }, 60_000);
    const flipped = (text[20] === 'A' ? 'B' : 'A');
    expect(s.open(text.slice(0, 20) + flipped + text.slice(21))).toBeUndefined();
    expect(s.open(text.slice(0, -3))).toBeUndefined();
    expect(s.open('')).toBeUndefined();
    expect(s.open('A'.repeat(10_000))).toBeUndefined();
  });

  it('without a secret (public client) draws a key per instance', () => {
    const text = new Sealer('', 'test').seal(1, 60_000);
    expect(new Sealer('', 'test').open(text)).toBeUndefined();
  });
});
