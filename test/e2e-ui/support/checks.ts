/**
 * Page checks shared by the browser tests: axe-core (injected into the page, pinned in package.json) for
 * accessibility, and a walk over every element for horizontal overflow on a phone-sized viewport.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = require.resolve('axe-core/axe.min.js');
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  /** Selectors and axe's summary of each offending node. */
  nodes: string[];
}

/**
 * Runs axe-core on the page with the WCAG 2.x A and AA rules (contrast included) and returns the violations
 * of impact `serious` or `critical`, described enough to fix them from the test report.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy (no inline scripts)
  // does not apply to; a script tag would be refused.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource ??= await readFile(AXE_SOURCE, 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id as string,
      impact: v.impact as string | null,
      help: v.help as string,
      nodes: (v.nodes as any[]).map((n) => `${(n.target as string[]).join(' ')}: ${String(n.failureSummary ?? '').replace(/\s+/g, ' ')}`),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Elements whose box reaches past the right edge of the viewport (or starts left of it), which makes the
 * whole page scroll sideways. Elements inside a box that scrolls or clips horizontally (a wide table in its
 * own scroller) are fine: the page does not move. Invisible elements (sr-only text, closed details) are
 * skipped, as the page's own scroll width would show them anyway.
 */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const clipped = (el: Element): boolean => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (style.overflowX !== 'visible') return true;
      }
      return false;
    };
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.classList.length ? `.${[...el.classList].join('.')}` : ''}`;
    const out: string[] = [];
    for (const el of document.body.querySelectorAll('*')) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.position === 'fixed') continue;
      if (rect.right > width + 0.5 || rect.left < -0.5) {
        if (clipped(el)) continue;
        out.push(`${name(el)} spans ${Math.round(rect.left)}..${Math.round(rect.right)} of ${width}px`);
      }
    }
    const pageScroll = document.documentElement.scrollWidth - width;
    if (pageScroll > 0) out.push(`the page scrolls sideways by ${pageScroll}px`);
    return out;
  });
}
