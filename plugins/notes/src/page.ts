import { createHash } from 'node:crypto';
import escapeHtml from 'escape-html';

/** A note as the page lists it. */
export interface RecentNote {
  id: number;
  title: string;
  text: string;
  /** ISO date-time. */
  at: string;
}

export interface FormState {
  /** The CSRF token for the hidden field. */
  token: string;
  /** Shown above the form: a confirmation or what was wrong. */
  banner?: { kind: 'ok' | 'error'; text: string };
  /** Values to put back into the form after an error, so nothing the user typed is lost. */
  title?: string;
  note?: string;
  recent: readonly RecentNote[];
}

export const MAX_TITLE_CHARS = 200;
export const MAX_NOTE_CHARS = 4000;

// The only style on the page. It is inline and allowed by its hash in the CSP, so the page
// needs no second request and the policy still forbids every other style and all script.
const STYLE = [
  'body{font-family:system-ui,sans-serif;margin:0;background:#f5f5f7;color:#1d1d1f}',
  'main{max-width:36rem;margin:2rem auto;padding:0 1rem}',
  'h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}',
  'form{display:grid;gap:.5rem;background:#fff;padding:1rem;border-radius:8px;box-shadow:0 1px 3px #0002}',
  'input,textarea{font:inherit;padding:.5rem;border:1px solid #bbb;border-radius:4px}',
  'button{font:inherit;padding:.5rem 1rem;border:0;border-radius:4px;background:#1f6feb;color:#fff;justify-self:start;cursor:pointer}',
  '.banner{padding:.75rem 1rem;border-radius:6px;margin-bottom:1rem}',
  '.ok{background:#dafbe1;color:#116329}.error{background:#ffebe9;color:#a40e26}',
  '.hint{color:#666;font-size:.9em}',
  'ul{list-style:none;padding:0}li{background:#fff;margin:.5rem 0;padding:.5rem 1rem;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}',
  'time{color:#666;font-size:.85em;display:block}',
].join('');

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/**
 * Headers for every response of the plugin, page or not:
 * - the CSP allows nothing but the one inline style, forms posting back to this origin and
 *   no framing (the page must not be clickjacked into posting);
 * - nosniff keeps browsers from reading a text answer as HTML;
 * - same-origin referrers only, because the page's URL carries the plugin's webhook token.
 *   Not no-referrer: under that policy browsers send `Origin: null` even on the page's own
 *   form posts, and the cross-site check could no longer tell them from a foreign page.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
});

/**
 * The notes page. Every value that came from a user (form input, stored notes) goes through
 * escapeHtml, which covers text and double- or single-quoted attribute values alike.
 * The form posts to "?", i.e. back to the page's own path. The host serves the page both at the
 * base path and at the base path without its trailing slash (both arrive as "/"), and only a
 * query-only URL resolves to the same place from either; "notes" would resolve to
 * `/plugin/<id>/custom/notes` from the slash-less one, outside the plugin.
 */
export function renderPage(state: FormState): string {
  const banner = state.banner === undefined ? '' : `<p class="banner ${state.banner.kind}" role="status">${escapeHtml(state.banner.text)}</p>`;
  const recent =
    state.recent.length === 0
      ? '<p class="hint">No notes yet.</p>'
      : `<ul>${state.recent
          .map((n) => `<li><strong>${escapeHtml(n.title)}</strong><time datetime="${escapeHtml(n.at)}">${escapeHtml(n.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time>${escapeHtml(n.text)}</li>`)
          .join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Notes · Flow</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Post a note to yourself</h1>
${banner}
<form method="post" action="?">
<input type="hidden" name="csrf" value="${escapeHtml(state.token)}">
<label for="title">Title <span class="hint">(optional)</span></label>
<input id="title" name="title" maxlength="${MAX_TITLE_CHARS}" value="${escapeHtml(state.title ?? '')}">
<label for="note">Note</label>
<textarea id="note" name="note" rows="6" maxlength="${MAX_NOTE_CHARS}" required>${escapeHtml(state.note ?? '')}</textarea>
<button type="submit">Send</button>
</form>
<h2>Recent notes</h2>
${recent}
</main>
</body>
</html>
`;
}

/**
 * A page for refusals (403) that deliberately echoes nothing from the request. `back` is the
 * page's URL relative to the refused request's URL.
 */
export function renderRefusal(reason: string, back: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="same-origin"><title>Refused · Notes</title><style>${STYLE}</style></head>
<body><main><h1>Note not sent</h1><p class="banner error">${escapeHtml(reason)}</p><p><a href="${escapeHtml(back)}">Back to the form</a></p></main></body>
</html>
`;
}
