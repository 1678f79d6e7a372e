/**
 * The message list for people: infinite scroll that keeps the stream live, the priority colour scale,
 * the compact density and the per-application unread counts since the last visit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, waitForText, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';

let flow: UiServer;
let ui: UiBrowser;
let bulk: { id: number; token: string };
let alerts: { id: number; token: string };

// More than one page (100), so that scrolling has something to load.
const TOTAL = 130;

function post(token: string, body: Record<string, unknown>) {
  return flow.server.api('POST', '/message', { token, json: body });
}

beforeAll(async () => {
  flow = await startUiServer();
  bulk = await flow.server.createApp({ name: 'Bulk' });
  alerts = await flow.server.createApp({ name: 'Alerts' });
  for (let i = 1; i <= TOTAL; i++) {
    const res = await post(bulk.token, { title: `Bulk ${i}`, message: `message number ${i}` });
    if (res.status !== 200) throw new Error(`post ${i}: ${res.status}`);
  }
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
}, 120_000);
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

const messages = () => ui.page.locator('#messages .message');
const count = () => messages().count();
const unreadOf = (id: number) => ui.page.locator(`#message-navigation .item[data-id="${id}"] .unread`);

describe('infinite scroll', () => {
  it('loads older messages while scrolling down, to the end', async () => {
    await messages().nth(99).waitFor();
    expect(await count()).toBe(100);
    await ui.page.locator('.scroll-sentinel').scrollIntoViewIfNeeded();
    await messages().nth(TOTAL - 1).waitFor();
    await ui.page.locator('.end-of-list').waitFor();
    expect(await count()).toBe(TOTAL);
    const titles = await messages().locator('.title').allTextContents();
    expect(titles[0]).toBe(`Bulk ${TOTAL}`);
    expect(titles[TOTAL - 1]).toBe('Bulk 1');
    expect(new Set(titles).size).toBe(TOTAL);
    expect(await ui.page.locator('.load-more').count()).toBe(0);
  });

  it('keeps the stream live after scrolling: a new message appears on top', async () => {
    await post(bulk.token, { title: 'Fresh', message: 'sent after the scroll' });
    await waitForText(messages().first().locator('.title'), 'Fresh');
    expect(await count()).toBe(TOTAL + 1);
  });
});

describe('priority colour scale', () => {
  it('marks low, normal, high and critical messages', async () => {
    await ui.page.evaluate(() => window.scrollTo(0, 0));
    for (const [priority, title] of [[1, 'P low'], [5, 'P normal'], [8, 'P high'], [10, 'P critical']] as const) {
      await post(alerts.token, { title, message: `priority ${priority}`, priority });
    }
    await waitForText(messages().first().locator('.title'), 'P critical');
    const levels = await messages().evaluateAll((els) =>
      els.slice(0, 4).map((el) => ({
        title: el.querySelector('.title')?.textContent,
        level: [...el.classList].find((c) => c.startsWith('priority-')),
        badge: el.querySelector('.badge.priority')?.textContent,
        border: getComputedStyle(el).borderLeftColor,
      })),
    );
    expect(levels.map((l) => [l.title, l.level, l.badge])).toEqual([
      ['P critical', 'priority-critical', 'critical · 10'],
      ['P high', 'priority-high', 'high · 8'],
      ['P normal', 'priority-normal', 'normal · 5'],
      ['P low', 'priority-low', 'low · 1'],
    ]);
    // Four levels, four colours.
    expect(new Set(levels.map((l) => l.border)).size).toBe(4);
  });
});

describe('compact density', () => {
  it('switches to a compact list, remembered after a reload', async () => {
    const toggle = ui.page.locator('.density-toggle');
    const heightBefore = (await messages().first().boundingBox())!.height;
    await toggle.click();
    await ui.page.locator('#messages.density-compact').waitFor();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    expect((await messages().first().boundingBox())!.height).toBeLessThan(heightBefore);
    await screenshot(ui.page, 'messages-compact', { fullPage: false });
    await ui.page.reload();
    await ui.page.locator('#messages.density-compact').waitFor();
    await ui.page.locator('.density-toggle').click();
    await ui.page.locator('#messages:not(.density-compact)').waitFor();
    expect(await ui.page.locator('.density-toggle').getAttribute('aria-pressed')).toBe('false');
  });
});

describe('unread counts', () => {
  it('counts new messages of the applications not on screen', async () => {
    await ui.page.locator(`#message-navigation .item[data-id="${bulk.id}"]`).click();
    await waitForHeading(ui.page, 'Bulk');
    await messages().first().waitFor();
    await post(alerts.token, { title: 'A1', message: 'one' });
    await post(alerts.token, { title: 'A2', message: 'two' });
    await post(bulk.token, { title: 'On screen', message: 'seen at once' });
    await waitForText(messages().first().locator('.title'), 'On screen');
    await waitForText(unreadOf(alerts.id), /^2\s*unread$/);
    // The application on screen has nothing unread.
    expect(await unreadOf(bulk.id).count()).toBe(0);
    await screenshot(ui.page, 'messages-unread', { fullPage: false });
  });

  it('keeps the counts across a reload, and clears them when the application is opened', async () => {
    await ui.page.locator('#navigate-clients').click();
    await waitForHeading(ui.page, 'Clients');
    await post(alerts.token, { title: 'A3', message: 'three' });
    await waitForText(unreadOf(alerts.id), /^3\s*unread$/);
    await ui.page.reload();
    await waitForHeading(ui.page, 'Clients');
    await waitForText(unreadOf(alerts.id), /^3\s*unread$/);
    // On a phone the selector says it too.
    await ui.page.setViewportSize({ width: 390, height: 844 });
    // Options are never "visible" to playwright: read their text in the page.
    const optionText = (text: string) =>
      ui.page.waitForFunction(([id, want]) => document.querySelector(`#app-selector option[value="${id}"]`)?.textContent === want, [
        alerts.id,
        text,
      ] as const);
    await optionText('Alerts (3 unread)');
    await screenshot(ui.page, 'messages-selector-390', { fullPage: false });
    await ui.page.locator('#app-selector').selectOption(String(alerts.id));
    await waitForHeading(ui.page, 'Alerts');
    await optionText('Alerts');
    await ui.page.setViewportSize({ width: 1280, height: 800 });
    expect(await unreadOf(alerts.id).count()).toBe(0);
    await ui.page.reload();
    await waitForHeading(ui.page, 'Alerts');
    await messages().first().waitFor();
    expect(await unreadOf(alerts.id).count()).toBe(0);
    expect(ui.pageErrors).toEqual([]);
  });
});
