import { describe, expect, it } from 'vitest';
import { FeedRecord } from './feed-record.js';
import { SeenSet } from './seen-set.js';

describe('SeenSet.compact', () => {
  it('keeps every key still in the feed and then the most recent others', () => {
    const seen = new SeenSet();
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) seen.add(key);
    // Most recent first: f e d c b a. The feed still holds a and b, the oldest two.
    seen.compact(new Set(['a', 'b']), 4);
    expect(seen.toArray()).toEqual(['f', 'e', 'b', 'a']);
  });

  it('never drops below the feed size even when the limit is smaller', () => {
    const seen = new SeenSet(['x', 'a', 'b', 'c']);
    seen.compact(new Set(['a', 'b', 'c']), 2);
    expect(seen.toArray()).toEqual(['a', 'b', 'c']);
  });
});

describe('FeedRecord', () => {
  it('round-trips ids and validators', () => {
    const record = new FeedRecord(new SeenSet(['k2', 'k1']), '"v1"', 'Tue, 24 Nov 2026 10:00:00 GMT');
    const back = FeedRecord.decode(record.encode())!;
    expect(back.seen.toArray()).toEqual(['k2', 'k1']);
    expect(back.validators()).toEqual({ etag: '"v1"', lastModified: 'Tue, 24 Nov 2026 10:00:00 GMT' });
  });

  it('tells a missing record from a corrupt one', () => {
    expect(FeedRecord.decode(null)).toBeUndefined();
    expect(() => FeedRecord.decode('{"ids":"nope"}')).toThrow(/unknown shape/);
    expect(() => FeedRecord.decode('not json')).toThrow();
  });
});
