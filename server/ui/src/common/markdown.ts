import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: true, async: false });

const purify = DOMPurify(window);
// Links in messages and plugin displays point away from Flow: open them in a new tab, and never hand
// the Flow page (window.opener) or its URL (Referer, which may carry a token) to the target.
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
  // A wide table scrolls sideways in its own box (styles.css): focusable, so that keyboards can scroll it too.
  if (node.tagName === 'TABLE') node.setAttribute('tabindex', '0');
});

/**
 * Renders untrusted markdown (message bodies, plugin displays) to HTML that is safe to inject.
 *
 * marked passes raw HTML through, so the output is always run through DOMPurify, which drops `<script>`,
 * `<style>`, `<iframe>`, every `on*` handler and `javascript:`/`vbscript:` URLs. DOMPurify keeps `data:` URLs
 * only on media elements, so a plugin can still show a QR code image (as Gotify's display allows).
 */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source) as string;
  return purify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['style'],
  });
}
