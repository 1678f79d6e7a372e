import { Marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { escapeInline, link, plainTitle, quote, safeUrl } from './markdown.js';

// The web UI renders messages with marked (gfm, breaks) and then DOMPurify; escaping must
// already hold on marked's output alone, so these tests render with the same options.
const marked = new Marked({ gfm: true, breaks: true, async: false });
const render = (md: string): string => marked.parse(md) as string;

const HOSTILE = [
  '[click](https://evil.example)',
  '![pixel](https://evil.example/p.png)',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  'https://evil.example/bare',
  'www.evil.example',
  '<https://evil.example>',
  '[ref][1]\n\n[1]: https://evil.example',
  '&lt;b&gt; entity',
  '# heading',
  '1. list',
  '> quote',
  '`code` and **bold**',
];

describe('escapeInline', () => {
  it.each(HOSTILE)('renders %j as inert text', (input) => {
    const html = render(escapeInline(input));
    expect(html).not.toMatch(/<(a|img|script|h1|ol|blockquote|code|strong)\b/);
  });

  it('keeps the visible text', () => {
    expect(render(escapeInline('a [b](c) <d> & e'))).toBe('<p>a [b](c) &lt;d&gt; &amp; e</p>\n');
  });

  it('turns line breaks and bidi overrides into spaces', () => {
    expect(escapeInline('one\ntwo\u202Ethree')).toBe('one two three');
  });
});

describe('quote', () => {
  it.each(HOSTILE)('quotes %j without markup other than the quote', (input) => {
    const html = render(quote(input));
    expect(html).toMatch(/^<blockquote>/);
    expect(html).not.toMatch(/<(a|img|script|h1|ol|code|strong)\b/);
  });

  it('cuts long text', () => {
    expect(quote('x'.repeat(600), 10)).toBe('> xxxxxxxxxx…');
  });
});

describe('link', () => {
  it('links http(s) targets with an escaped label', () => {
    expect(render(link('#1 [x](y)', 'https://github.com/o/r/pull/1'))).toBe('<p><a href="https://github.com/o/r/pull/1">#1 [x](y)</a></p>\n');
  });

  it('refuses other schemes', () => {
    expect(render(link('x', 'javascript:alert(1)'))).toBe('<p>x</p>\n');
    expect(safeUrl('data:text/html,hi')).toBeUndefined();
    expect(safeUrl('not a url')).toBeUndefined();
  });

  it('percent-encodes characters that would end the destination', () => {
    expect(safeUrl('https://e.example/a)b(c d')).toBe('https://e.example/a%29b%28c%20d');
  });

  it('a trailing backslash cannot escape the closing parenthesis', () => {
    expect(safeUrl('https://e.example/p?q=\\')).toBe('https://e.example/p?q=%5C');
    expect(render(`${link('x', 'https://e.example/p#\\')} [y](https://evil.example)`)).toBe(
      '<p><a href="https://e.example/p#%5C">x</a> <a href="https://evil.example">y</a></p>\n',
    );
  });
});

describe('plainTitle', () => {
  it('keeps one bounded line', () => {
    expect(plainTitle('a\nb')).toBe('a b');
    expect(plainTitle('y'.repeat(300))).toHaveLength(200);
  });
});
