import { describe, expect, it } from 'vitest';
import { newApplicationToken, newClientToken, newImageName, newPluginToken, randomString } from './token.js';

describe('tokens', () => {
  it('have the Gotify formats', () => {
    expect(newApplicationToken()).toMatch(/^A[A-Za-z0-9._-]{14}$/);
    expect(newClientToken()).toMatch(/^C[A-Za-z0-9._-]{14}$/);
    expect(newPluginToken()).toMatch(/^P[A-Za-z0-9_-]{22}$/);
    expect(newImageName()).toMatch(/^[A-Za-z0-9_-]{25}$/);
  });

  it('use the whole alphabet', () => {
    const seen = new Set(randomString(20000, 'abc.-'));
    expect([...seen].sort()).toEqual(['-', '.', 'a', 'b', 'c']);
  });
});
