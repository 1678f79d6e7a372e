import { describe, expect, it } from 'vitest';
import { escapeMarkdown, itemMessage, summaryText } from './format.js';

describe('escapeMarkdown', () => {
  it('escapes everything markdown could read as markup', () => {
    expect(escapeMarkdown('*bold* _it_ [x](javascript:y) <b> | ~s~ # 1. &amp; \\')).toBe(
      '\\*bold\\* \\_it\\_ \\[x\\]\\(javascript\\:y\\) \\<b\\> \\| \\~s\\~ \\# 1\\. \\&amp\\; \\\\',
    );
  });

  it('keeps a bare URL in feed text from becoming a GFM autolink with a mangled target', () => {
    // Unescaped "https:" and "www." start GFM autolinks, which take the backslashes of escaped
    // dots into the href; escaped, they stay text.
    expect(escapeMarkdown('see https://a.example/x or www.b.example')).toBe('see https\\:\\/\\/a\\.example\\/x or www\\.b\\.example');
    expect(escapeMarkdown('===')).toBe('\\=\\=\\=');
  });
});

describe('summaryText', () => {
  it('turns HTML into text without links or images and cuts at a word', () => {
    const html = '<p>Hello <a href="https://x.example">there</a> <img src="y.png"> friend.</p><p>Second paragraph is long enough to cut.</p>';
    expect(summaryText(html, 1000)).toBe('Hello there friend.\n\nSecond paragraph is long enough to cut.');
    expect(summaryText(html, 30)).toBe('Hello there friend.\n\nSecond…');
  });
});

describe('itemMessage', () => {
  it('builds a markdown message with a click URL', () => {
    const msg = itemMessage({ key: 'k', title: 'New *release*', link: 'https://example.com/r?a=1&b=2', summaryHtml: '<p>Fixes [bugs]</p>' }, 'Blog', 7, 400);
    expect(msg).toEqual({
      title: 'New *release*',
      message: 'Fixes \\[bugs\\]\n\n*Blog* · [open](<https://example.com/r?a=1&b=2>)',
      priority: 7,
      extras: { 'client::display': { contentType: 'text/markdown' }, 'client::notification': { click: { url: 'https://example.com/r?a=1&b=2' } } },
    });
  });

  it('falls back to the feed name without title, link or summary', () => {
    const msg = itemMessage({ key: 'k', summaryHtml: 'text' }, 'My_feed', 5, 0);
    expect(msg.title).toBe('New item in My_feed');
    expect(msg.message).toBe('*My\\_feed*');
    expect(msg.extras['client::notification']).toBeUndefined();
  });

  it('makes multi-line or HTML titles one line of text', () => {
    expect(itemMessage({ key: 'k', title: 'A <b>bold</b>\n  move' }, 'f', 5, 0).title).toBe('A bold move');
  });
});
