import { statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { ROOT, fingerprint } from './build-state.mjs';

describe('build staleness (npm start builds only when needed)', () => {
  it('has a fingerprint that is stable and follows any source change', () => {
    const a = fingerprint();
    expect(fingerprint()).toBe(a);
    const file = path.join(ROOT, 'protocol', 'package.json');
    const st = statSync(file);
    try {
      utimesSync(file, st.atime, new Date(st.mtimeMs + 5000));
      expect(fingerprint()).not.toBe(a);
    } finally {
      utimesSync(file, st.atime, st.mtime);
    }
    expect(fingerprint()).toBe(a);
  });
});
