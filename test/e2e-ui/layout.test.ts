/**
 * Every page at desktop (1280 px) and phone (390 px) width, in light and dark mode: a screenshot of each for
 * people to look at, no horizontal page scroll on the phone, and no serious axe-core violation (contrast AA
 * included) in either colour scheme. One browser for the whole file; the pages are filled with realistic data
 * first (applications with and without an image, messages of every priority, a wide markdown table, plugins).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { horizontalOverflow, seriousA11yViolations } from './support/checks.js';
import { login, openBrowser, screenshot, waitForHeading, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';
import { testPng } from './support/png.js';
import { waitFor } from '../helpers/plugins.js';

let flow: UiServer;
let ui: UiBrowser;
let github: { id: number };
let echo: { id: number };

const WIDE_TABLE = [
  'Nightly report of **every** host:',
  '',
  '| Host | Address | Last backup | Status | Payload URL |',
  '|---|---|---|---|---|',
  '| db-primary | 10.0.0.12 | 2026-12-06 02:00:04 UTC | ok | `https://backup.example.org/api/v1/hosts/db-primary/deliveries/latest` |',
  '| web-frontend-eu | 10.0.0.31 | 2026-12-06 02:04:51 UTC | warning: disk 91 % full | `https://backup.example.org/api/v1/hosts/web-frontend-eu/deliveries/latest` |',
  '',
  'Details: https://backup.example.org/reports/2026-12-06/a-very-long-path/that-does-not-fit/on-a-phone-screen.html',
].join('\n');

beforeAll(async () => {
  flow = await startUiServer(['echo', 'github']);
  const auth = { auth: flow.server.adminAuth };
  // The host lists each plugin once its process has answered; both are needed here.
  const plugins = await waitFor(async () => {
    const list = (await flow.server.api('GET', '/plugin', auth)).body as { id: number; modulePath: string }[];
    return list.length === 2 && list;
  }, 'both plugins listed');
  echo = plugins.find((p) => p.modulePath.endsWith('/echo'))!;
  github = plugins.find((p) => p.modulePath.endsWith('/github'))!;
  const backup = await flow.server.createApp({ name: 'Backup server', description: 'Nightly backups of every host' });
  const monitor = await flow.server.createApp({ name: 'Monitoring' });
  const home = await flow.server.createApp({ name: 'Home assistant' });
  const form = new FormData();
  form.append('file', new Blob([testPng()], { type: 'image/png' }), 'logo.png');
  expect((await flow.server.api('POST', `/application/${monitor.id}/image`, { ...auth, body: form })).status).toBe(200);
  await flow.server.createUser('bob');
  await flow.server.createClient('Phone');
  const send = (token: string, title: string, message: string, priority: number, markdown = false) =>
    flow.server.api('POST', '/message', {
      token,
      json: { title, message, priority, ...(markdown ? { extras: { 'client::display': { contentType: 'text/markdown' } } } : {}) },
    });
  await send(home.token, 'Door bell', 'Someone rang at the front door.', 2);
  await send(monitor.token, 'CPU load high', 'web-frontend-eu: load 7.9 for 5 minutes', 6);
  await send(backup.token, 'Backup report', WIDE_TABLE, 5, true);
  await send(monitor.token, 'Disk almost full', 'db-primary: /var at 96 %', 8);
  await send(monitor.token, 'Host down', 'web-frontend-eu does not answer pings since 02:14 UTC.', 10);
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

interface PageCase {
  name: string;
  hash: string;
  ready: () => Promise<void>;
}

const PAGES: PageCase[] = [
  {
    name: 'messages',
    hash: '#/',
    ready: async () => {
      await waitForHeading(ui.page, 'All Messages');
      await ui.page.locator('#messages .message').nth(4).waitFor();
    },
  },
  {
    name: 'applications',
    hash: '#/applications',
    ready: async () => {
      await waitForHeading(ui.page, 'Applications');
      await ui.page.locator('#app-table td.image img.avatar').waitFor();
    },
  },
  {
    name: 'clients',
    hash: '#/clients',
    ready: async () => {
      await waitForHeading(ui.page, 'Clients');
      await ui.page.locator('#client-table tbody tr').nth(1).waitFor();
    },
  },
  {
    name: 'users',
    hash: '#/users',
    ready: async () => {
      await waitForHeading(ui.page, 'Users');
      await ui.page.locator('#user-table tbody tr').nth(1).waitFor();
    },
  },
  {
    name: 'plugins',
    hash: '#/plugins',
    ready: async () => {
      await waitForHeading(ui.page, 'Plugins');
      await ui.page.locator('#plugin-table tbody tr').nth(1).waitFor();
      await ui.page.locator('#plugin-table [data-status="running"]').nth(1).waitFor({ timeout: 15_000 });
    },
  },
  {
    name: 'plugin-github',
    hash: '',
    ready: async () => {
      await ui.page.locator('.displayer table').waitFor();
      await ui.page.locator('.process-panel .pid > span').filter({ hasText: /^\d+$/ }).waitFor({ timeout: 15_000 });
    },
  },
  {
    name: 'plugin-echo',
    hash: '',
    ready: async () => {
      await ui.page.locator('.configurer .cm-content').waitFor();
      await ui.page.locator('.displayer a').first().waitFor();
    },
  },
];

const hashOf = (p: PageCase) =>
  p.name === 'plugin-github' ? `#/plugins/${github.id}` : p.name === 'plugin-echo' ? `#/plugins/${echo.id}` : p.hash;

async function open(p: PageCase): Promise<void> {
  // The hash changes the route without a reload, as following a link does.
  await ui.page.evaluate((hash) => (location.hash = hash), hashOf(p));
  await p.ready();
}

const CASES = (['light', 'dark'] as const).flatMap((scheme) =>
  ([1280, 390] as const).flatMap((width) => PAGES.map((page) => ({ scheme, width, page }))),
);

describe('every page in light and dark mode, on a desktop and a phone', () => {
  it.each(CASES)('$page.name at $width px, $scheme', async ({ scheme, width, page }) => {
    await ui.page.emulateMedia({ colorScheme: scheme });
    await ui.page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    await open(page);
    await screenshot(ui.page, `${page.name}-${width}-${scheme}`);
    if (width === 390) expect(await horizontalOverflow(ui.page)).toEqual([]);
    expect(await seriousA11yViolations(ui.page)).toEqual([]);
  });

  it('left no error in the page', () => {
    expect(ui.pageErrors).toEqual([]);
  });
});

describe('a plugin display with a wide table', () => {
  it('scrolls the table inside the display instead of breaking its words, at 390 px', async () => {
    await ui.page.emulateMedia({ colorScheme: 'light' });
    await ui.page.setViewportSize({ width: 390, height: 844 });
    await open(PAGES.find((p) => p.name === 'plugin-github')!);
    const table = ui.page.locator('.displayer table');
    const box = await table.evaluate((el) => ({ client: el.clientWidth, scroll: el.scrollWidth, overflowX: getComputedStyle(el).overflowX }));
    // Wider than the screen, so it scrolls: within its own box, not the page.
    expect(box.overflowX).toBe('auto');
    expect(box.scroll).toBeGreaterThan(box.client);
    expect(await horizontalOverflow(ui.page)).toEqual([]);
    // No word is split over two lines: every cell word is on one line (its rects are a single line high).
    const brokenWords = await table.evaluate((el) => {
      const broken: string[] = [];
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent ?? '';
        for (const match of text.matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          if (tops.size > 1) broken.push(match[0]);
        }
      }
      return broken;
    });
    expect(brokenWords).toEqual([]);
    // The display takes the content's full width, below the info (not a half-width card beside it).
    const info = await ui.page.locator('.plugin-info').boundingBox();
    const display = await ui.page.locator('.displayer-panel').boundingBox();
    expect(display!.y).toBeGreaterThan(info!.y + info!.height - 1);
    expect(Math.abs(display!.width - info!.width)).toBeLessThan(2);
    await screenshot(ui.page, 'plugin-display-wide-table-390');
  });

  it('gives the display the full width on a desktop and wraps the long URL of a message', async () => {
    await ui.page.setViewportSize({ width: 1280, height: 800 });
    const main = await ui.page.locator('main .plugin-detail-page').boundingBox();
    const display = await ui.page.locator('.displayer-panel').boundingBox();
    expect(display!.width).toBeGreaterThan(main!.width - 2);
    await ui.page.setViewportSize({ width: 390, height: 844 });
    await open(PAGES[0]!);
    const report = ui.page.locator('#messages .message').filter({ hasText: 'Backup report' });
    await report.locator('table').waitFor();
    expect(await horizontalOverflow(ui.page)).toEqual([]);
    await screenshot(ui.page, 'messages-wide-table-390');
  });
});

describe('keyboard', () => {
  it('starts with a skip link to the content, and every focused control shows a focus ring', async () => {
    await ui.page.setViewportSize({ width: 1280, height: 800 });
    await ui.page.emulateMedia({ colorScheme: 'dark' });
    await open(PAGES.find((p) => p.name === 'applications')!);
    await ui.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await ui.page.keyboard.press('Tab');
    const skip = ui.page.locator('.skip-link');
    expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
    expect((await skip.boundingBox())!.y).toBeGreaterThanOrEqual(0);
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.evaluate(() => document.activeElement?.id)).toBe('main-content');
    // The next stops are the page's own controls, each with a visible outline.
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      await ui.page.keyboard.press('Tab');
      const focus = await ui.page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        const label = el.getAttribute('aria-label') ?? el.textContent?.trim() ?? el.tagName;
        return { inMain: !!el.closest('main'), outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2, label };
      });
      expect(focus.inMain).toBe(true);
      expect(focus.outline, `focus ring on ${focus.label}`).toBe(true);
      seen.push(focus.label);
    }
    expect(seen[0]).toBe('Create application');
    expect(seen).toContain('Edit Backup server');
  });
});
