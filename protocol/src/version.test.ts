import { describe, expect, it } from 'vitest';
import { negotiateVersion, parseVersion } from './version.js';

// The cases of spec/protocol.md §4.3 and §14.
describe('negotiateVersion', () => {
  it('agrees on the lower minor of the same major', () => {
    expect(negotiateVersion(['1.3'], ['1.1'])).toBe('1.1'); // newer host, older plugin
    expect(negotiateVersion(['1.0'], ['1.1'])).toBe('1.0'); // 1.0 host, 1.1 plugin
    expect(negotiateVersion(['1.1'], ['1.0'])).toBe('1.0'); // 1.1 host, 1.0 plugin
    expect(negotiateVersion(['1.0'], ['1.0'])).toBe('1.0');
  });

  it('picks the highest common version when the host offers several majors', () => {
    expect(negotiateVersion(['2.0', '1.3'], ['1.2'])).toBe('1.2');
    expect(negotiateVersion(['2.0', '1.3'], ['2.1', '1.2'])).toBe('2.0');
  });

  it('finds nothing when no major matches, and ignores malformed offers', () => {
    expect(negotiateVersion(['2.0'], ['1.0'])).toBeUndefined();
    expect(negotiateVersion(['v1', '1', '1.0.0', ' 1.0', ''], ['1.0'])).toBeUndefined();
    expect(negotiateVersion(['nonsense', '1.0'], ['1.0'])).toBe('1.0');
  });
});

describe('parseVersion', () => {
  it('reads MAJOR.MINOR and nothing else', () => {
    expect(parseVersion('1.0')).toEqual({ major: 1, minor: 0 });
    expect(parseVersion('12.34')).toEqual({ major: 12, minor: 34 });
    expect(parseVersion('01.0')).toBeUndefined();
    expect(parseVersion('1.0-beta')).toBeUndefined();
  });
});
