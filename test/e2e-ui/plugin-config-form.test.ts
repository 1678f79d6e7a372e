/**
 * The configuration form generated from a plugin's JSON Schema (protocol 1.1 `configSchema`, served at
 * `GET /plugin/:id/configschema`): the form and the YAML editor edit the same text, a save the server refuses
 * shows each issue next to its field (or above the form when there is no field), and what is saved is exactly
 * the text, comments included. Uses the schema11 test fixture, a real plugin process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from './support/checks.js';
import { login, openBrowser, screenshot, waitForText, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';
import { waitFor } from '../helpers/plugins.js';

let flow: UiServer;
let ui: UiBrowser;
let plugin: { id: number; name: string };

beforeAll(async () => {
  flow = await startUiServer([], ['schema11']);
  plugin = await waitFor(async () => {
    const list = (await flow.server.api('GET', '/plugin', { auth: flow.server.adminAuth })).body;
    return list.find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/test/schema11');
  }, 'schema11 listed');
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
  await ui.page.evaluate((id) => (location.hash = `#/plugins/${id}`), plugin.id);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

const configurer = () => ui.page.locator('.configurer');
const field = (pointer: string) => configurer().locator(`.schema-form [data-path="${pointer}"]`);
const input = (pointer: string) => field(pointer).locator('input, select, textarea').first();
const editorText = () =>
  configurer().locator('.cm-content').evaluate((el) => [...el.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n'));

async function stored(): Promise<string> {
  return (await flow.server.api('GET', `/plugin/${plugin.id}/config`, { auth: flow.server.adminAuth })).text;
}

/** Replaces the whole editor text by typing, as a user would. */
async function typeYaml(text: string): Promise<void> {
  await configurer().locator('.cm-content').click();
  await ui.page.keyboard.press('Control+A');
  await ui.page.keyboard.press('Delete');
  await ui.page.keyboard.insertText(text);
}

describe('configuration form from the plugin schema', () => {
  it('opens on the form, filled from the stored YAML', async () => {
    const formTab = configurer().getByRole('tab', { name: 'Form' });
    await formTab.waitFor();
    expect(await formTab.getAttribute('aria-selected')).toBe('true');
    expect(await input('/name').inputValue()).toBe('relay');
    expect(await input('/feeds/0/url').inputValue()).toBe('https://example.com/feed');
    expect(await input('/feeds/0/every').inputValue()).toBe('5');
    // Labelled fields: the label names the input.
    expect(await configurer().getByLabel('Url').first().inputValue()).toBe('https://example.com/feed');
    await screenshot(ui.page, 'plugin-config-form');
    expect(await seriousA11yViolations(ui.page)).toEqual([]);
  });

  it('keeps the form and the YAML in step, both ways, comments included', async () => {
    await input('/name').fill('my feeds');
    await configurer().getByRole('tab', { name: 'YAML' }).click();
    await configurer().locator('.cm-content').waitFor();
    // The editor's last line is the empty one after the final newline.
    expect(await editorText()).toBe('name: my feeds\nfeeds:\n  - url: https://example.com/feed\n    every: 5\n');

    await typeYaml('# my reading list\nname: my feeds\nfeeds:\n  - url: https://example.com/feed\n    every: 7 # minutes\n');
    await configurer().getByRole('tab', { name: 'Form' }).click();
    await waitFor(async () => (await input('/feeds/0/every').inputValue()) === '7', 'the form shows the YAML edit');

    // A change in the form keeps the YAML's comments.
    await input('/feeds/0/every').fill('9');
    await configurer().getByRole('button', { name: 'Add feed' }).click();
    await field('/feeds/1').waitFor();
    await configurer().getByRole('tab', { name: 'YAML' }).click();
    const yaml = await editorText();
    expect(yaml).toContain('# my reading list');
    expect(yaml).toContain('every: 9 # minutes');
    expect(yaml).toMatch(/- url: ""/);
    await configurer().getByRole('tab', { name: 'Form' }).click();
  });

  it('shows every issue of a refused save next to its field, at once, and keeps the edits', async () => {
    const before = await stored();
    // An optional text emptied is left out of the YAML, so the plugin's default applies.
    await input('/name').fill('');
    await input('/feeds/0/every').fill('0');
    await configurer().getByRole('tab', { name: 'YAML' }).click();
    expect(await editorText()).not.toMatch(/^name:/m);
    await configurer().getByRole('tab', { name: 'Form' }).click();
    await configurer().locator('.config-save').click();
    await waitForText(configurer().locator('.config-error'), /^Bad Request: .*schema/);
    // The new feed's url is empty (pattern) and the first feed's interval is 0 (minimum): each under its field.
    await field('/feeds/1/url').locator('.field-error').waitFor();
    await field('/feeds/0/every').locator('.field-error').waitFor();
    expect(await input('/feeds/1/url').getAttribute('aria-invalid')).toBe('true');
    expect(await input('/feeds/0/every').getAttribute('aria-invalid')).toBe('true');
    expect(await input('/feeds/0/url').getAttribute('aria-invalid')).toBeNull();
    // The described-by points at the messages, for screen readers.
    const describedBy = (await input('/feeds/1/url').getAttribute('aria-describedby'))!;
    expect(await ui.page.locator(`#${describedBy.split(' ').at(-1)}`).textContent()).toMatch(/\S/);
    expect(await input('/feeds/0/every').inputValue()).toBe('0');
    expect(await stored()).toBe(before);
    await screenshot(ui.page, 'plugin-config-form-issues');
    expect(await seriousA11yViolations(ui.page)).toEqual([]);
  });

  it('lists an issue with no field (an unknown key) above the form', async () => {
    await configurer().getByRole('tab', { name: 'YAML' }).click();
    await typeYaml('name: ok\ncolour: red\n');
    await configurer().locator('.config-save').click();
    const list = configurer().locator('.config-form-panel .issue-list');
    await configurer().getByRole('tab', { name: 'Form' }).click();
    await list.filter({ hasText: '/colour' }).waitFor();
    // In the YAML view every issue is listed under the editor.
    await configurer().getByRole('tab', { name: 'YAML' }).click();
    await configurer().locator('.config-yaml-panel .issue-list').filter({ hasText: '/colour' }).waitFor();
    // Refused whole: the stored config is not the one with the unknown key.
    expect((await flow.server.api('GET', `/plugin/${plugin.id}/config`, { auth: flow.server.adminAuth })).text).not.toContain('colour');
  });

  it('saves what the form and the editor made, byte for byte', async () => {
    await typeYaml('# my reading list\nname: my feeds\nfeeds:\n  - url: https://example.com/feed\n    every: 9 # minutes\n');
    await configurer().getByRole('tab', { name: 'Form' }).click();
    await configurer().getByRole('button', { name: 'Add feed' }).click();
    await input('/feeds/1/url').fill('https://news.example.org/rss');
    await input('/feeds/1/every').fill('30');
    await configurer().locator('.config-save').click();
    await ui.page.getByRole('status').filter({ hasText: 'Plugin config updated' }).first().waitFor();
    await configurer().locator('.config-save:disabled').waitFor();
    expect(await stored()).toBe(
      '# my reading list\nname: my feeds\nfeeds:\n  - url: https://example.com/feed\n    every: 9 # minutes\n  - url: https://news.example.org/rss\n    every: 30\n',
    );
    expect(await configurer().locator('.field-error').count()).toBe(0);
    // After a reload the form shows the saved values.
    await ui.page.reload();
    await waitFor(async () => (await input('/feeds/1/every').count()) > 0 && (await input('/feeds/1/every').inputValue()) === '30', 'saved values in the form');
    expect(ui.pageErrors).toEqual([]);
  });
});
