/**
 * Markdown building blocks that keep text written by GitHub users (titles, commit messages,
 * comments, branch names) inert: it can never become a link, an image, HTML or a heading.
 */

// CommonMark lets any ASCII punctuation be backslash-escaped, and an escaped character is
// always literal. Escaping every one of them (not a hand-picked few) also breaks GFM's bare
// URL autolinks (`https\:\/\/…`, `www\.…`), entities (`\&amp;`) and line-start syntax
// (`\#`, `1\.`, `\-`, `\>`), which a shorter list tends to forget.
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** Escapes one line of untrusted text for inline use; line breaks become spaces. */
export function escapeInline(text: string): string {
  return collapseWhitespace(text).replace(ASCII_PUNCTUATION, (c) => `\\${c}`);
}

/** The first line of a multi-line text (a commit message's subject), escaped. */
export function firstLine(text: string): string {
  return escapeInline(text.split(/\r?\n/, 1)[0] ?? '');
}

/**
 * Untrusted multi-line text (a comment or release body) as an escaped block quote, cut to
 * `maxChars` so one long comment cannot fill the message.
 */
export function quote(text: string, maxChars = 500): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  const cut = trimmed.length > maxChars ? `${trimmed.slice(0, maxChars).trimEnd()}…` : trimmed;
  return cut
    .split(/\r?\n/)
    .map((line) => (line.trim() === '' ? '>' : `> ${escapeInline(line)}`))
    .join('\n');
}

/**
 * A link whose target came from the payload. Only http(s) URLs become links; anything else
 * is shown as escaped text. Parentheses, spaces and backslashes are percent-encoded so the destination
 * cannot end early, and the label is escaped like any user text.
 */
export function link(label: string, url: string | undefined | null): string {
  const href = safeUrl(url);
  return href === undefined ? escapeInline(label) : `[${escapeInline(label)}](${href})`;
}

/** `url` normalised when it is an absolute http(s) URL, else undefined. */
export function safeUrl(url: string | undefined | null): string | undefined {
  if (typeof url !== 'string') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  // A backslash survives URL parsing in the query and fragment; before the closing ")" it
  // would escape it and leave the link open for the text that follows.
  return parsed.href.replace(/[()<> \\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Plain text for a message title (titles are not rendered as markdown): one line, bounded. */
export function plainTitle(text: string, maxChars = 200): string {
  const line = collapseWhitespace(text);
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}

function collapseWhitespace(text: string): string {
  // Control characters (including bidi overrides) would let a title hide or reorder text.
  return text.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim();
}
