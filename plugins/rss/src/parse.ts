import { createHash } from 'node:crypto';
import { parseFeed } from '@rowanmanning/feed-parser';
import { XMLValidator } from 'fast-xml-parser';

/** One RSS item or Atom entry, reduced to what a message needs. */
export interface FeedEntry {
  /** Short stable hash of the item's identity (see itemKey); what the seen-set stores. */
  key: string;
  /**
   * The key the same item may have been recorded under before, when it has no guid/id and its
   * link is (or was) shared with other items: see identifyLinkOnlyItems. Seen under this key
   * counts as seen.
   */
  altKey?: string;
  /**
   * For an item whose link is shared: its link-only key, under which version 1 of this plugin
   * recorded every item of the group. Honoured only for a seen-set that version wrote.
   */
  legacyKey?: string;
  title?: string;
  /** Absolute http(s) URL of the item, resolved against the feed URL. */
  link?: string;
  /** HTML or text as the feed gave it (content preferred over description). */
  summaryHtml?: string;
  /** Published, else updated. */
  date?: Date;
}

export interface ParsedFeed {
  title?: string;
  /** In document order. */
  entries: FeedEntry[];
}

/** The body is not a feed we can read; the message is shown in the display. */
export class FeedParseError extends Error {
  override name = 'FeedParseError';
}

/** A `&` that starts no entity or character reference: the commonest mistake in real feeds. */
const BARE_AMPERSAND = /&(?![A-Za-z][\w.-]*;|#\d+;|#x[\dA-Fa-f]+;)/g;

/**
 * Parses RSS 0.9x/1.0/2.0 or Atom. The document must be well-formed XML once bare `&`s are
 * escaped: the feed parser alone would also read a truncated document, and items cut in half
 * (a guid lost, say) would come back whole on the next poll as "new" items, i.e. duplicates.
 * Anything unreadable becomes a FeedParseError with the position of the problem.
 */
export function parseFeedText(text: string, feedUrl: string): ParsedFeed {
  const xml = text.replace(BARE_AMPERSAND, '&amp;');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    // The validator reports unclosed elements as "Invalid '[ "rss", "channel" ]' found." at 1:1.
    const unclosed = /^Invalid '\[([\s\S]*)\]' found/.exec(valid.err.msg);
    if (unclosed) {
      const names = unclosed[1]!.replace(/[\s"]+/g, '').split(',').filter(Boolean);
      throw new FeedParseError(`malformed XML: the document ends inside <${names.at(-1) ?? '?'}> (cut short?)`);
    }
    // The validator leaves col undefined for some errors (an empty body among them).
    const where = typeof valid.err.col === 'number' ? `line ${valid.err.line}, column ${valid.err.col}` : `line ${valid.err.line}`;
    throw new FeedParseError(`malformed XML: ${valid.err.msg.replace(/\s+/g, ' ')} (${where})`);
  }
  let feed: ReturnType<typeof parseFeed>;
  try {
    feed = parseFeed(xml);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new FeedParseError(`not a valid RSS or Atom feed: ${reason.slice(0, 160)}`);
  }
  const linkOnly: Array<{ entry: FeedEntry; link: string }> = [];
  const entries = feed.items.map((item): FeedEntry => {
    const link = absoluteHttpUrl(item.url, feedUrl);
    const title = item.title?.trim() || undefined;
    const summaryHtml = item.content?.trim() || item.description?.trim() || undefined;
    const date = item.published ?? item.updated ?? undefined;
    const entry: FeedEntry = {
      key: itemKey(item.id, link, [title, summaryHtml, date?.toISOString()]),
      ...(title !== undefined ? { title } : {}),
      ...(link !== undefined ? { link } : {}),
      ...(summaryHtml !== undefined ? { summaryHtml } : {}),
      ...(date && !Number.isNaN(date.getTime()) ? { date } : {}),
    };
    if (!item.id?.trim() && link !== undefined) linkOnly.push({ entry, link });
    return entry;
  });
  identifyLinkOnlyItems(linkOnly);
  const title = feed.title?.trim();
  return { ...(title ? { title } : {}), entries };
}

/**
 * Items without a guid/id are identified by their link, but some feeds (status pages, "what's
 * new" pages) give every item the same link: keyed by link alone, all but the first would be
 * one item, and every later one would be lost. An item whose link is shared in the document is
 * keyed by link, title and date instead. Since the link's sharing changes as items come and go,
 * each such item also gets the key it has on the other side of that change (`altKey`): a unique
 * link's item its shared-link key, and the oldest item of a group its link-only key, the key
 * it had while it was alone. Only the oldest gets that one: a newer item of the group was never
 * recorded under it, and taking it as seen would lose it.
 */
function identifyLinkOnlyItems(items: Array<{ entry: FeedEntry; link: string }>): void {
  const byLink = new Map<string, FeedEntry[]>();
  for (const { entry, link } of items) {
    const group = byLink.get(link);
    if (group === undefined) byLink.set(link, [entry]);
    else group.push(entry);
  }
  for (const [link, group] of byLink) {
    const linkKey = itemKey(null, link, []);
    const sharedKey = (e: FeedEntry): string => itemKey(null, undefined, ['shared-link', link, e.title, e.date?.toISOString()]);
    if (group.length === 1) {
      group[0]!.altKey = sharedKey(group[0]!);
      continue;
    }
    for (const entry of group) {
      entry.key = sharedKey(entry);
      entry.legacyKey = linkKey;
    }
    // Feeds list newest first; dates decide when every item has one.
    const oldest = group.every((e) => e.date !== undefined)
      ? group.reduce((a, b) => (b.date!.getTime() < a.date!.getTime() ? b : a))
      : group[group.length - 1]!;
    oldest.altKey = linkKey;
  }
}

/**
 * Identity of an item: its guid/Atom id, else its link, else a hash of what it shows. Hashed to
 * 12 base64url characters (72 bits) so the seen-set costs ~15 bytes per item in storage
 * whatever the ids look like; collisions are negligible at the sizes a seen-set reaches.
 */
export function itemKey(id: string | null, link: string | undefined, content: Array<string | undefined>): string {
  const identity = id?.trim() ? `id:${id.trim()}` : link !== undefined ? `link:${link}` : `content:${JSON.stringify(content)}`;
  return createHash('sha256').update(identity).digest('base64url').slice(0, 12);
}

function absoluteHttpUrl(value: string | null, base: string): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The entries that are not in `seen`, oldest first: by date when every new entry has one
 * (ties keep feed order reversed), otherwise the reverse of feed order, since feeds list
 * newest first.
 */
export function newEntriesOldestFirst(entries: FeedEntry[], seen: { has(key: string): boolean }): FeedEntry[] {
  const fresh: FeedEntry[] = [];
  const keys = new Set<string>();
  for (const entry of entries) {
    // A feed that repeats an item would otherwise send it twice in one poll.
    if (seen.has(entry.key) || keys.has(entry.key)) continue;
    keys.add(entry.key);
    fresh.push(entry);
  }
  fresh.reverse();
  if (fresh.every((e) => e.date !== undefined)) {
    return fresh
      .map((entry, index) => ({ entry, index }))
      .sort((a, b) => a.entry.date!.getTime() - b.entry.date!.getTime() || a.index - b.index)
      .map(({ entry }) => entry);
  }
  return fresh;
}
