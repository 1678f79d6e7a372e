import { describe, expect, it } from 'vitest';
import { atomXml, rssXml } from '../test/feed-server.js';
import { FeedParseError, itemKey, newEntriesOldestFirst, parseFeedText } from './parse.js';

const FEED_URL = 'https://example.com/feed.xml';

describe('parseFeedText', () => {
  it('reads RSS 2.0 items with guid, link, description and date', () => {
    const feed = parseFeedText(
      rssXml('Example & Co', [{ guid: 'g1', title: 'First <post>', link: '/posts/1', description: '<p>Hello <b>world</b></p>', date: new Date('2026-11-20T10:00:00Z') }]),
      FEED_URL,
    );
    expect(feed.title).toBe('Example & Co');
    expect(feed.entries).toHaveLength(1);
    expect(feed.entries[0]).toMatchObject({ title: 'First <post>', summaryHtml: '<p>Hello <b>world</b></p>', date: new Date('2026-11-20T10:00:00Z') });
    expect(feed.entries[0]!.link).toMatch(/^https:\/\/example\.com\/posts\/1$/);
    expect(feed.entries[0]!.key).toBe(itemKey('g1', undefined, []));
  });

  it('reads Atom entries', () => {
    const feed = parseFeedText(
      atomXml('Atom feed', [{ id: 'urn:e1', title: 'Entry', link: 'https://example.com/e1', summary: 'a <i>b</i>', updated: new Date('2026-11-21T00:00:00Z') }]),
      FEED_URL,
    );
    expect(feed.title).toBe('Atom feed');
    expect(feed.entries[0]).toMatchObject({ title: 'Entry', link: 'https://example.com/e1', summaryHtml: 'a <i>b</i>' });
    expect(feed.entries[0]!.key).toBe(itemKey('urn:e1', undefined, []));
  });

  it('identifies items by guid, else link, else content', () => {
    const feed = parseFeedText(
      rssXml('t', [
        { guid: 'same', title: 'a', link: 'https://example.com/1' },
        { title: 'b', link: 'https://example.com/2' },
        { title: 'c', description: 'only text' },
      ]),
      FEED_URL,
    );
    const [a, b, c] = feed.entries;
    expect(a!.key).toBe(itemKey('same', 'https://example.com/other', []));
    expect(b!.key).toBe(itemKey(null, 'https://example.com/2', ['ignored']));
    expect(c!.key).toBe(itemKey(null, undefined, ['c', 'only text', undefined]));
    expect(new Set([a!.key, b!.key, c!.key]).size).toBe(3);
  });

  it('tells apart items without a guid that share one link', () => {
    const feed = parseFeedText(
      rssXml('t', [
        { title: 'Resolved', link: 'https://status.example.com/', date: new Date('2026-01-02T00:00:00Z') },
        { title: 'Investigating', link: 'https://status.example.com/', date: new Date('2026-01-01T00:00:00Z') },
        { title: 'Own page', link: 'https://status.example.com/post' },
      ]),
      FEED_URL,
    );
    const [resolved, investigating, own] = feed.entries;
    expect(resolved!.key).not.toBe(investigating!.key);
    // The oldest of the group may have been recorded while it was alone on its link.
    expect(investigating!.altKey).toBe(itemKey(null, 'https://status.example.com/', []));
    expect(resolved!.altKey).toBeUndefined();
    // An item alone on its link keeps the link-only key.
    expect(own!.key).toBe(itemKey(null, 'https://status.example.com/post', []));
  });

  it('accepts a bare ampersand, the commonest mistake in real feeds', () => {
    const xml = rssXml('t', [{ guid: 'x', title: 'Fish and chips' }]).replace('Fish and chips', 'Fish & chips');
    expect(parseFeedText(xml, FEED_URL).entries[0]!.title).toBe('Fish & chips');
  });

  it('drops links that are not http(s)', () => {
    const feed = parseFeedText(rssXml('t', [{ guid: 'x', title: 'x', link: 'javascript:alert(1)' }]), FEED_URL);
    expect(feed.entries[0]!.link).toBeUndefined();
  });

  it('names the element a truncated document ends in', () => {
    expect(() => parseFeedText('<rss><channel><item><title>cut', FEED_URL)).toThrow('malformed XML: the document ends inside <title> (cut short?)');
  });

  it('says what is wrong with an empty body, without an undefined column', () => {
    expect(() => parseFeedText('', FEED_URL)).toThrow(/^malformed XML: Start tag expected\. \(line 1\)$/);
    expect(() => parseFeedText(' \n ', FEED_URL)).toThrow(/^malformed XML: [^\n]*\(line \d+\)$/);
  });

  it('neither expands nested entities nor reads external ones', () => {
    const lol = '<!ENTITY a "aaaaaaaaaa">' + Array.from({ length: 8 }, (_, i) => `<!ENTITY ${'b'.repeat(i + 1)} "${`&${i === 0 ? 'a' : 'b'.repeat(i)};`.repeat(10)}">`).join('');
    const bomb = `<?xml version="1.0"?><!DOCTYPE r [${lol}]><rss version="2.0"><channel><title>t</title><item><guid>x</guid><title>&bbbbbbbb;</title></item></channel></rss>`;
    expect(parseFeedText(bomb, FEED_URL).entries[0]!.title!.length).toBeLessThan(100);
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&x;</title></channel></rss>';
    expect(() => parseFeedText(xxe, FEED_URL)).toThrow(FeedParseError);
  });

  it.each([
    ['XML truncated before the items', rssXml('t', [{ guid: 'a', title: 'a' }]).slice(0, 150)],
    ['XML truncated inside an item', rssXml('t', [{ guid: 'a', title: 'a' }, { guid: 'b', title: 'b' }]).replace(/<guid isPermaLink="false">b<\/guid>[\s\S]*$/, '')],
    ['an HTML page', '<!doctype html><html><body><h1>Not a feed</h1></body></html>'],
    ['plain text', 'hello <<< world'],
    ['JSON', '{"items":[]}'],
  ])('throws FeedParseError on %s', (_name, text) => {
    expect(() => parseFeedText(text, FEED_URL)).toThrow(FeedParseError);
  });
});

describe('newEntriesOldestFirst', () => {
  const entry = (key: string, date?: string) => ({ key, title: key, ...(date ? { date: new Date(date) } : {}) });

  it('orders unseen entries by date, oldest first', () => {
    const entries = [entry('c', '2026-01-03'), entry('a', '2026-01-01'), entry('b', '2026-01-02')];
    expect(newEntriesOldestFirst(entries, new Set(['a'])).map((e) => e.key)).toEqual(['b', 'c']);
  });

  it('falls back to reversed feed order when a date is missing, and drops repeats', () => {
    const entries = [entry('c'), entry('b', '2026-01-02'), entry('c'), entry('a')];
    expect(newEntriesOldestFirst(entries, new Set()).map((e) => e.key)).toEqual(['a', 'b', 'c']);
  });
});
