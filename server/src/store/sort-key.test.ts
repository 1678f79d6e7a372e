import { describe, expect, it } from 'vitest';
import { keyAfter } from './sort-key.js';

describe('keyAfter', () => {
  it('follows Gotify/fracdex keys', () => {
    const follows: [key: string, after: string][] = [['', 'a0'], ['a0', 'a1'], ['a9', 'aA'], ['az', 'b00'], ['b0z', 'b10'], ['bzz', 'c000']];
    for (const [key, next] of follows) expect(keyAfter(key), key).toBe(next);
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
