import { describe, expect, it } from 'vitest';
import { IdWatermark } from './id-watermark.js';

/** A watermark reset to `mark` that gives up holes after 30 s; `at(ms, ...ids)` sees the ids at that time. */
function watermark(mark: number): { w: IdWatermark; at(ms: number, ...ids: number[]): void } {
  let now = 0;
  const w = new IdWatermark(() => now, 30_000);
  w.reset(mark);
  return {
    w,
    at(ms, ...ids) {
      now = ms;
      for (const id of ids) w.see(id);
    },
  };
}

describe('IdWatermark', () => {
  it('advances over ids seen in a row, in any order', () => {
    const { w, at } = watermark(10);
    at(0, 12, 13);
    expect(w.mark).toBe(10);
    expect(w.has(12)).toBe(true);
    at(0, 11);
    expect(w.mark).toBe(13);
    expect(w.pending).toBe(0);
  });

  it('stops below a late commit, so a catch-up from the mark reads it', () => {
    const { w, at } = watermark(0);
    // Id 2 was drawn before 3 but commits after it: "highest id seen" (3) would skip it.
    at(0, 1, 3);
    at(29_999, 4);
    expect(w.mark).toBe(1);
    expect(w.has(2)).toBe(false);
    expect(w.has(3)).toBe(true);
    w.see(2);
    expect(w.mark).toBe(4);
  });

  it('gives up a hole older than the limit (an insert that never committed)', () => {
    const { w, at } = watermark(5);
    at(0, 7);
    at(30_000, 8);
    expect(w.mark).toBe(8);
    // A new hole starts its own clock.
    at(30_000, 10);
    at(45_000, 11);
    expect(w.mark).toBe(8);
    at(60_001, 12);
    expect(w.mark).toBe(12);
  });

  it('ignores ids at or below the mark and repeats', () => {
    const { w, at } = watermark(5);
    at(0, 3, 7, 7);
    expect(w.mark).toBe(5);
    expect(w.pending).toBe(1);
  });

  it('passes to a bound a catch-up read up to: holes below it close, ids seen above it keep counting', () => {
    const { w, at } = watermark(5);
    at(0, 7, 9, 12);
    expect(w.mark).toBe(5);
    w.passTo(10);
    expect(w.mark).toBe(10);
    expect(w.has(12)).toBe(true);
    expect(w.pending).toBe(1);
    at(0, 11);
    expect(w.mark).toBe(12);
    expect(w.pending).toBe(0);
    w.passTo(4);
    expect(w.mark).toBe(12);
  });
});
