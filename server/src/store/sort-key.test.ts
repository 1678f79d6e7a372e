import { describe, expect, it } from 'vitest';
import { keyAfter } from './sort-key.js';

describe('keyAfter', () => {
  it('follows Gotify/fracdex keys', () => {
    expect(keyAfter('')).toBe('a0');
    expect(keyAfter('a0')).toBe('a1');
    expect(keyAfter('a9')).toBe('aA');
    expect(keyAfter('az')).toBe('b00');
    expect(keyAfter('b0z')).toBe('b10');
    expect(keyAfter('bzz')).toBe('c000');
  });

  it('always sorts after its input, also for foreign keys', () => {
    let k = '';
    for (let i = 0; i < 5000; i++) {
      const n = keyAfter(k);
      expect(n > k).toBe(true);
      k = n;
    }
    for (const foreign of ['x', 'Z', 'a', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'hello world']) expect(keyAfter(foreign) > foreign).toBe(true);
  });
});
