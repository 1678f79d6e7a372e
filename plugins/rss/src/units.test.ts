import { describe, expect, it } from 'vitest';
import { formatDuration, parseByteSize, parseDuration } from './units.js';

describe('parseDuration', () => {
  it('reads unit strings, compound strings and bare seconds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(600)).toBe(600_000);
    expect(parseDuration('1.5')).toBe(1500);
  });

  it('rejects anything else', () => {
    for (const bad of ['', 'soon', '-5m', '10 minutes', '5x', -1, Number.NaN, null, {}]) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('prints the shortest form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(250)).toBe('250ms');
  });
});

describe('parseByteSize', () => {
  it('reads binary multiples and bare bytes', () => {
    expect(parseByteSize('5MB')).toBe(5 * 1024 * 1024);
    expect(parseByteSize('512 kb')).toBe(512 * 1024);
    expect(parseByteSize(2048)).toBe(2048);
    expect(parseByteSize('lots')).toBeUndefined();
  });
});
