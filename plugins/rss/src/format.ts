import { convert } from 'html-to-text';
import type { FeedEntry } from './parse.js';

/** What the poller hands to the messenger: the kit's `ctx.send` argument. */
export interface OutgoingMessage {
  title: string;
  message: string;
  priority: number;
  extras: Record<string, unknown>;
}

/**
 * Backslash-escapes every ASCII punctuation character (CommonMark lets any of them be escaped,
 * and an escaped one is always literal), so feed text shows literally. A hand-picked subset
 * missed `:` and `=`: a bare `https://host.example/…` in a summary was then autolinked by GFM
 * with the escaped dots inside its href (`https://host%5C.example/…`, a dead link), and a line
 * of `===` turned the line above it into a heading.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/** Feed summaries are HTML; the message shows their text, links and images dropped. */
export function summaryText(html: string, maxChars: number): string {
  const text = convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  })
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text.length <= maxChars) return text;
  // Cut at a word boundary when there is one close enough.
  const cut = text.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return `${(space > maxChars * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * One message per item. The title is the item's title (plain text, as Gotify titles are); the
 * body is markdown: the escaped summary, then the feed's name and a link to the item. Clients
 * open the item on click through `client::notification.click.url`.
 */
export function itemMessage(entry: FeedEntry, feedName: string, priority: number, summaryLength: number): OutgoingMessage {
  const parts: string[] = [];
  if (summaryLength > 0 && entry.summaryHtml !== undefined) {
    const summary = summaryText(entry.summaryHtml, summaryLength);
    // Leading spaces would make an indented code block; hard breaks keep the summary's lines.
    if (summary !== '') parts.push(summary.split('\n').map((line) => escapeMarkdown(line.trimStart())).join('  \n'));
  }
  // The URL is percent-encoded by URL parsing, so no `<`, `>` or space can end the destination.
  parts.push(entry.link !== undefined ? `*${escapeMarkdown(feedName)}* · [open](<${entry.link}>)` : `*${escapeMarkdown(feedName)}*`);
  const extras: Record<string, unknown> = { 'client::display': { contentType: 'text/markdown' } };
  if (entry.link !== undefined) extras['client::notification'] = { click: { url: entry.link } };
  return {
    title: entry.title !== undefined ? plainLine(entry.title) : `New item in ${plainLine(feedName)}`,
    message: parts.join('\n\n'),
    priority,
    extras,
  };
}

/** Titles can carry markup and line breaks in feeds; a message title is one line of text. */
function plainLine(text: string): string {
  const plain = /[<&]/.test(text) ? convert(text, { wordwrap: false }) : text;
  return plain.replace(/\s+/g, ' ').trim().slice(0, 250);
}
