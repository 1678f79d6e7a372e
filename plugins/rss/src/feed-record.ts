import { SeenSet } from './seen-set.js';

/**
 * What is stored per feed, one kv value each: the seen-set and the validators for a conditional
 * GET. Format: `{"v":2,"ids":["key",...],"etag":"...","lastModified":"..."}`, ids most recent first.
 * Version 1 differs only in how items without a guid that share a link were keyed (by the link
 * alone: see FeedEntry.legacyKey); it is read, and written back as version 2 after its next poll.
 */
export class FeedRecord {
  /** Read from a version 1 record: its ids may be link-only keys of items that share a link. */
  legacyKeys = false;

  constructor(
    readonly seen: SeenSet,
    private etag?: string,
    private lastModified?: string,
  ) {}

  /** Undefined for a missing value (the feed was never polled); throws on a corrupt one. */
  static decode(value: string | null): FeedRecord | undefined {
    if (value === null) return undefined;
    const parsed = JSON.parse(value) as { v?: unknown; ids?: unknown; etag?: unknown; lastModified?: unknown } | null;
    if (typeof parsed !== 'object' || parsed === null || (parsed.v !== 1 && parsed.v !== 2) || !Array.isArray(parsed.ids)) {
      throw new Error('stored feed record has an unknown shape');
    }
    const ids = parsed.ids.filter((id): id is string => typeof id === 'string');
    const record = new FeedRecord(
      new SeenSet(ids),
      typeof parsed.etag === 'string' ? parsed.etag : undefined,
      typeof parsed.lastModified === 'string' ? parsed.lastModified : undefined,
    );
    record.legacyKeys = parsed.v === 1;
    return record;
  }

  encode(): string {
    return JSON.stringify({ v: this.legacyKeys ? 1 : 2, ids: this.seen.toArray(), etag: this.etag, lastModified: this.lastModified });
  }

  validators(): { etag?: string; lastModified?: string } {
    return {
      ...(this.etag !== undefined ? { etag: this.etag } : {}),
      ...(this.lastModified !== undefined ? { lastModified: this.lastModified } : {}),
    };
  }

  /** Returns whether anything changed (and so needs writing). */
  setValidators(etag: string | undefined, lastModified: string | undefined): boolean {
    const changed = etag !== this.etag || lastModified !== this.lastModified;
    this.etag = etag;
    this.lastModified = lastModified;
    return changed;
  }
}
