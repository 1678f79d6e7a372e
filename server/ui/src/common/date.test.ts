import { describe, expect, it } from 'vitest';
import { timeAgo } from './date';

describe('timeAgo', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');

  it('says "just now" under a minute', () => {
    expect(timeAgo('2026-01-10T11:59:30Z', now)).toBe('just now');
  });

  it('uses the largest whole unit', () => {
    expect(timeAgo('2026-01-10T11:55:00Z', now)).toMatch(/5 minutes ago/);
    expect(timeAgo('2026-01-10T09:00:00Z', now)).toMatch(/3 hours ago/);
    expect(timeAgo('2026-01-08T12:00:00Z', now)).toMatch(/2 days ago/);
  });

  it('gives an empty string for a date it cannot read', () => {
    expect(timeAgo('not a date', now)).toBe('');
  });
});
