import { describe, expect, it } from 'vitest';
import { IdWatermark } from './id-watermark.js';

describe('IdWatermark', () => {
  it('advances over ids seen in a row, in any order', () => {
    const w = new IdWatermark(() => 0);
    w.reset(10);
    w.see(12);
    w.see(13);
    expect(w.mark).toBe(10);
    expect(w.has(12)).toBe(true);
    w.see(11);
    expect(w.mark).toBe(13);
    expect(w.pending).toBe(0);
  });

  it('stops below a late commit, so a catch-up from the mark reads it', () => {
    let now = 0;
    const w = new IdWatermark(() => now, 30_000);
    w.reset(0);
    // Id 2 was drawn before 3 but commits after it: "highest id seen" (3) would skip it.
    w.see(1);
    w.see(3);
    now = 29_999;
    w.see(4);
    expect(w.mark).toBe(1);
    expect(w.has(2)).toBe(false);
    expect(w.has(3)).toBe(true);
    w.see(2);
    expect(w.mark).toBe(4);
  });

  it('gives up a hole older than the limit (an insert that never committed)', () => {
    let now = 0;
    const w = new IdWatermark(() => now, 30_000);
    w.reset(5);
    w.see(7);
    now = 30_000;
    w.see(8);
    expect(w.mark).toBe(8);
    // A new hole starts its own clock.
    w.see(10);
    now = 45_000;
    w.see(11);
    expect(w.mark).toBe(8);
    now = 60_001;
    w.see(12);
    expect(w.mark).toBe(12);
  });

  it('ignores ids at or below the mark and repeats', () => {
    const w = new IdWatermark(() => 0);
    w.reset(5);
    w.see(3);
    w.see(7);
    w.see(7);
    expect(w.mark).toBe(5);
    expect(w.pending).toBe(1);
  });

  it('passes to a bound a catch-up read up to: holes below it close, ids seen above it keep counting', () => {
    const w = new IdWatermark(() => 0);
    w.reset(5);
    w.see(7);
    w.see(9);
    w.see(12);
    expect(w.mark).toBe(5);
    w.passTo(10);
    expect(w.mark).toBe(10);
    expect(w.has(12)).toBe(true);
    expect(w.pending).toBe(1);
    w.see(11);
    expect(w.mark).toBe(12);
    expect(w.pending).toBe(0);
    w.passTo(4);
    expect(w.mark).toBe(12);
  });
});
