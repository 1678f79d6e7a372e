import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, waitForText, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';
import { waitFor } from '../helpers/plugins.js';

let flow: UiServer;
let ui: UiBrowser;
let echo: { id: number; token: string; name: string };

beforeAll(async () => {
  flow = await startUiServer(['echo']);
  // The host lists a plugin once its process has answered.
  echo = await waitFor(async () => {
    const list = (await flow.server.api('GET', '/plugin', { auth: flow.server.adminAuth })).body;
    return list.find((p: { modulePath: string }) => p.modulePath.endsWith('/echo'));
  }, 'echo listed');
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

async function pluginState(): Promise<{ enabled: boolean }> {
  const list = (await flow.server.api('GET', '/plugin', { auth: flow.server.adminAuth })).body;
  return list.find((p: { id: number }) => p.id === echo.id);
}

async function storedConfig(): Promise<string> {
  return (await flow.server.api('GET', `/plugin/${echo.id}/config`, { auth: flow.server.adminAuth })).text;
}

const table = () => ui.page.locator('#plugin-table');
const echoRow = () => table().locator(`tbody tr[data-id="${echo.id}"]`);
// Gotify's UI tests read the editor lines this way; CodeMirror 6 carries the same classes here.
const editorLines = () => ui.page.locator('.configurer .CodeMirror .CodeMirror-code > div');

async function openDetails(): Promise<void> {
  await ui.page.locator('#navigate-plugins').click();
  await waitForHeading(ui.page, 'Plugins');
  await echoRow().locator('td:nth-child(5) button').click();
  await waitForText(ui.page.locator('.plugin-info .name > span'), echo.name);
}

/** Replaces the whole editor text by typing, as a user would. */
async function typeConfig(text: string): Promise<void> {
  await ui.page.locator('.configurer .cm-content').click();
  await ui.page.keyboard.press('Control+A');
  await ui.page.keyboard.press('Delete');
  await ui.page.keyboard.insertText(text);
}

describe('plugins list', () => {
  it('shows name, version, status, enabled switch and capabilities', async () => {
    await ui.page.locator('#navigate-plugins').click();
    await waitForHeading(ui.page, 'Plugins');
    await echoRow().waitFor();
    expect(await table().locator('tbody tr').count()).toBe(1);
    expect(await echoRow().locator('td.id').textContent()).toBe(String(echo.id));
    expect(await echoRow().locator('td.name').textContent()).toBe(echo.name);
    expect(await echoRow().locator('td.token .secret-value').textContent()).toBe('•••••••••••••••');
    expect(await echoRow().locator('td.version').textContent()).toMatch(/^\d+\.\d+\.\d+/);
    await echoRow().locator('td.status [data-status="running"]').waitFor({ timeout: 15_000 });
    const caps = await echoRow().locator('td.capabilities .capability').allTextContents();
    expect(caps).toEqual(expect.arrayContaining(['configurer', 'displayer', 'messenger', 'storager', 'webhooker']));
    expect(await echoRow().locator('[data-enabled]').getAttribute('data-enabled')).toBe('false');
    await screenshot(ui.page, 'plugins');
  });

  it('enables and disables a plugin with its switch', async () => {
    const toggle = echoRow().locator('[data-enabled]');
    await toggle.click();
    await echoRow().locator('[data-enabled="true"]').waitFor();
    await ui.page.getByRole('status').filter({ hasText: 'Plugin enabled' }).first().waitFor();
    expect((await pluginState()).enabled).toBe(true);
    await screenshot(ui.page, 'plugins-enabled');
    await toggle.click();
    await echoRow().locator('[data-enabled="false"]').waitFor();
    expect((await pluginState()).enabled).toBe(false);
  });
});

describe('plugin detail page', () => {
  it('shows the plugin info, status and webhook base URL, which it copies', async () => {
    await openDetails();
    const info = ui.page.locator('.plugin-info');
    expect(await info.locator('.module-path > span').textContent()).toMatch(/\/echo$/);
    expect(await info.locator('.version > span').textContent()).toMatch(/^\d+\.\d+\.\d+/);
    expect(await info.locator('.capabilities > span').textContent()).toContain('webhooker');
    await info.locator('.status [data-status="running"]').waitFor();
    const webhook = `${flow.uiUrl}plugin/${echo.id}/custom/${echo.token}/`;
    expect(await info.locator('.webhook a').getAttribute('href')).toBe(webhook);
    await info.getByRole('button', { name: 'Copy webhook base URL' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Copied to clipboard' }).first().waitFor();
    expect(await ui.page.evaluate(() => navigator.clipboard.readText())).toBe(webhook);
    await screenshot(ui.page, 'plugin-detail');
  });

  it('toggles the plugin from its detail page too, saying what "disabled" means', async () => {
    const toggle = ui.page.locator('.page-header [data-enabled]');
    const note = ui.page.locator('.disabled-note');
    await note.filter({ hasText: 'plugin is disabled' }).waitFor();
    await toggle.click();
    await ui.page.locator('.page-header [data-enabled="true"]').waitFor();
    await note.waitFor({ state: 'detached' });
    expect((await pluginState()).enabled).toBe(true);
    await toggle.click();
    await ui.page.locator('.page-header [data-enabled="false"]').waitFor();
    await note.waitFor();
    expect((await pluginState()).enabled).toBe(false);
  });

  it('saves an edited config, which is kept after a reload', async () => {
    const save = ui.page.locator('.config-save');
    await editorLines().first().filter({ hasText: 'magic_string' }).waitFor();
    expect(await save.isDisabled()).toBe(true);
    // The highlighter colours the key: a YAML parser is at work, not a bare textarea.
    expect(await ui.page.locator('.configurer .cm-content .cm-line span').count()).toBeGreaterThan(0);
    await editorLines().first().click();
    await ui.page.keyboard.press('End');
    await ui.page.keyboard.type('x');
    await ui.page.locator('.config-save:enabled').waitFor();
    await screenshot(ui.page, 'plugin-config-edited');
    await save.click();
    await ui.page.locator('.config-save:disabled').waitFor();
    await ui.page.getByRole('status').filter({ hasText: 'Plugin config updated' }).first().waitFor();
    expect(await storedConfig()).toMatch(/^magic_string: .*x\n?/);

    await ui.page.reload();
    await editorLines().first().filter({ hasText: /x$/ }).waitFor();
    expect(await ui.page.locator('.config-save').isDisabled()).toBe(true);
  });

  it('shows why a config was rejected, next to the editor, and keeps the text', async () => {
    const before = await storedConfig();

    await typeConfig('magic_string: ""');
    await ui.page.locator('.config-save').click();
    const error = ui.page.locator('.configurer .config-error');
    await waitForText(error, /^Bad Request: .*magic_string must not be empty/);
    expect(await editorLines().first().textContent()).toBe('magic_string: ""');
    expect(await ui.page.locator('.config-save').isEnabled()).toBe(true);
    await screenshot(ui.page, 'plugin-config-rejected');

    await typeConfig('magic_string: [unclosed');
    await ui.page.locator('.config-save').click();
    await waitForText(error, /^Bad Request: /);
    expect(await editorLines().first().textContent()).toBe('magic_string: [unclosed');

    expect(await storedConfig()).toBe(before);
    // Reload brings the stored text back and clears the error.
    await ui.page.locator('.config-reload').click();
    await editorLines().first().filter({ hasText: /x$/ }).waitFor();
    expect(await error.count()).toBe(0);
  });

  it('renders the display, whose webhook link sends a message to the messages page', async () => {
    const displayer = ui.page.locator('.displayer');
    const link = displayer.locator('a').first();
    await link.waitFor();
    const href = await link.getAttribute('href');
    expect(href).toBe(`${flow.uiUrl}plugin/${echo.id}/custom/${echo.token}/echo`);
    expect(await displayer.locator('script').count()).toBe(0);

    // Disabled: the host refuses the webhook (as Gotify does).
    expect((await fetch(href!)).status).toBe(400);

    await ui.page.locator('.page-header [data-enabled]').click();
    await ui.page.locator('.page-header [data-enabled="true"]').waitFor();
    const res = await fetch(href!);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/x$/);

    await ui.page.locator('.display-refresh').click();
    await displayer.filter({ hasText: /Called 1 time\b/ }).waitFor();
    await screenshot(ui.page, 'plugin-display');

    await ui.page.locator('#message-navigation a.all').click();
    await waitForHeading(ui.page, 'All Messages');
    const message = ui.page.locator('#messages .message').first();
    await waitForText(message.locator('.title'), /^.+received$/);
    expect(await message.locator('.content').textContent()).toMatch(/^echo server received a hello message 1 times$/);
    await screenshot(ui.page, 'messages-from-plugin');
  });

  it('shows administrators the plugin process and restarts it', async () => {
    await openDetails();
    const panel = ui.page.locator('.process-panel');
    const pid = panel.locator('.pid > span');
    await pid.filter({ hasText: /^\d+$/ }).waitFor();
    const before = await pid.textContent();
    await screenshot(ui.page, 'plugin-detail-admin');
    await panel.getByRole('button', { name: 'Restart' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Plugin restarted' }).first().waitFor();
    await ui.page.waitForFunction(
      (old) => {
        const text = document.querySelector('.process-panel .pid > span')?.textContent ?? '';
        return /^\d+$/.test(text) && text !== old;
      },
      before,
      { timeout: 15_000 },
    );
    await ui.page.locator('.plugin-info .status [data-status="running"]').waitFor({ timeout: 15_000 });
    const processes = (await flow.server.api('GET', '/plugin/admin/processes', { auth: flow.server.adminAuth })).body as { pid: number | null }[];
    expect(processes.map((p) => String(p.pid))).toContain(await pid.textContent());
    expect(await pid.textContent()).not.toBe(before);
  });

  it("marks the plugin's internal application and does not let it be deleted", async () => {
    await ui.page.locator('#navigate-apps').click();
    await waitForHeading(ui.page, 'Applications');
    const row = ui.page.locator('#app-table tbody tr').filter({ has: ui.page.locator('.badge.internal') });
    await row.waitFor();
    expect(await row.locator('.delete').isDisabled()).toBe(true);
    expect(ui.pageErrors).toEqual([]);
  });
});
