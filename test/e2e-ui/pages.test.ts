import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, waitForText, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';

let flow: UiServer;
let ui: UiBrowser;

beforeAll(async () => {
  flow = await startUiServer();
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

const admin = () => ({ auth: flow.server.adminAuth });
const row = (table: string, name: string) =>
  ui.page.locator(`${table} tbody tr`).filter({ has: ui.page.locator('td.name', { hasText: name }) });

describe('applications page', () => {
  it('creates an application', async () => {
    await ui.page.locator('#navigate-apps').click();
    await waitForHeading(ui.page, 'Applications');
    await ui.page.locator('#create-app').click();
    const dialog = ui.page.locator('.app-dialog');
    await dialog.getByLabel('Name').fill('Backup server');
    await dialog.getByLabel('Description').fill('Nightly backups');
    await dialog.getByLabel('Default priority').fill('4');
    await screenshot(ui.page, 'applications-create');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await row('#app-table', 'Backup server').waitFor();
    const apps = (await flow.server.api('GET', '/application', admin())).body;
    expect(apps).toMatchObject([{ name: 'Backup server', description: 'Nightly backups', defaultPriority: 4 }]);
    // The messages navigation follows.
    await ui.page.locator('#message-navigation .item', { hasText: 'Backup server' }).waitFor();
  });

  it('shows the token on demand and copies it', async () => {
    const [app] = (await flow.server.api('GET', '/application', admin())).body;
    const secret = row('#app-table', 'Backup server').locator('td.token');
    expect(await secret.locator('.secret-value').textContent()).toBe('•••••••••••••••');
    await secret.getByRole('button', { name: /^Show / }).click();
    await waitForText(secret.locator('.secret-value'), app.token);
    await secret.getByRole('button', { name: /^Copy / }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Copied to clipboard' }).waitFor();
    expect(await ui.page.evaluate(() => navigator.clipboard.readText())).toBe(app.token);
    await screenshot(ui.page, 'applications');
  });

  it('uploads an application image', async () => {
    // A 1×1 PNG.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    );
    await row('#app-table', 'Backup server')
      .locator('td.image input[type="file"]')
      .setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png });
    await ui.page.getByRole('status').filter({ hasText: 'Image uploaded' }).waitFor();
    const [app] = (await flow.server.api('GET', '/application', admin())).body;
    expect(app.image).toMatch(/^image\//);
    await row('#app-table', 'Backup server').locator(`td.image img[src$="${app.image}"]`).waitFor();
  });

  it('edits an application', async () => {
    await row('#app-table', 'Backup server').locator('.edit').click();
    const dialog = ui.page.locator('.app-dialog');
    await dialog.getByLabel('Name').fill('Backups');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await row('#app-table', 'Backups').waitFor();
    const apps = (await flow.server.api('GET', '/application', admin())).body;
    expect(apps).toMatchObject([{ name: 'Backups', description: 'Nightly backups', defaultPriority: 4 }]);
  });

  it('shows the API error in the dialog and keeps the input', async () => {
    const gone = await flow.server.createApp({ name: 'Gone soon' });
    await ui.page.reload();
    await row('#app-table', 'Gone soon').locator('.edit').click();
    const dialog = ui.page.locator('.app-dialog');
    await dialog.getByLabel('Name').fill('Renamed');
    // Deleted elsewhere while the dialog is open: the server answers 404 with its reason.
    await flow.server.api('DELETE', `/application/${gone.id}`, admin());
    await dialog.getByRole('button', { name: 'Save' }).click();
    const error = dialog.getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/^Not Found: /);
    expect(await dialog.getByLabel('Name').inputValue()).toBe('Renamed');
    await screenshot(ui.page, 'applications-error');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('deletes an application after confirming', async () => {
    await row('#app-table', 'Backups').locator('.delete').click();
    const confirm = ui.page.locator('.confirm-dialog');
    await confirm.waitFor();
    await confirm.locator('button.confirm').click();
    await row('#app-table', 'Backups').waitFor({ state: 'detached' });
    expect((await flow.server.api('GET', '/application', admin())).body).toEqual([]);
  });
});

describe('clients page', () => {
  it('lists this browser, creates, renames and deletes a client', async () => {
    await ui.page.locator('#navigate-clients').click();
    await waitForHeading(ui.page, 'Clients');
    await row('#client-table', 'Flow Web UI').locator('.badge', { hasText: 'this browser' }).waitFor();
    await ui.page.locator('#create-client').click();
    const dialog = ui.page.locator('.client-dialog');
    await dialog.getByLabel('Name').fill('Phone');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await row('#client-table', 'Phone').waitFor();
    await screenshot(ui.page, 'clients');
    await row('#client-table', 'Phone').locator('.edit').click();
    const rename = ui.page.locator('.client-dialog');
    expect(await rename.getByLabel('Name').inputValue()).toBe('Phone');
    await rename.getByLabel('Name').fill('Work phone');
    await rename.getByRole('button', { name: 'Save' }).click();
    await row('#client-table', 'Work phone').waitFor();
    const renamed = (await flow.server.api('GET', '/client', admin())).body.map((c: { name: string }) => c.name);
    expect(renamed.sort()).toEqual(['Flow Web UI', 'Work phone']);
    await row('#client-table', 'Work phone').locator('.delete').click();
    await ui.page.locator('.confirm-dialog button.confirm').click();
    await row('#client-table', 'Work phone').waitFor({ state: 'detached' });
    const names = (await flow.server.api('GET', '/client', admin())).body.map((c: { name: string }) => c.name);
    expect(names).toEqual(['Flow Web UI']);
  });
});

describe('users page', () => {
  it('creates, edits and deletes a user', async () => {
    await ui.page.locator('#navigate-users').click();
    await waitForHeading(ui.page, 'Users');
    await ui.page.locator('#create-user').click();
    let dialog = ui.page.locator('.user-dialog');
    await dialog.getByLabel('Username').fill('carol');
    await dialog.getByLabel('Password').fill('carol-pass');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await row('#user-table', 'carol').waitFor();
    expect(await row('#user-table', 'carol').locator('td.admin').textContent()).toBe('No');

    await row('#user-table', 'carol').locator('.edit').click();
    dialog = ui.page.locator('.user-dialog');
    await dialog.getByLabel('Administrator').check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await waitForText(row('#user-table', 'carol').locator('td.admin'), 'Yes');
    // The password was left empty, so it is unchanged.
    const carol = await flow.server.api('GET', '/current/user', { auth: `Basic ${Buffer.from('carol:carol-pass').toString('base64')}` });
    expect(carol.body).toMatchObject({ name: 'carol', admin: true });
    await screenshot(ui.page, 'users');

    await row('#user-table', 'carol').locator('.delete').click();
    await ui.page.locator('.confirm-dialog button.confirm').click();
    await row('#user-table', 'carol').waitFor({ state: 'detached' });
  });

  it('shows why the server refused: a duplicate user name', async () => {
    await ui.page.locator('#create-user').click();
    const dialog = ui.page.locator('.user-dialog');
    await dialog.getByLabel('Username').fill('admin');
    await dialog.getByLabel('Password').fill('x');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await waitForText(dialog.getByRole('alert'), 'Bad Request: username already exists');
    const users = (await flow.server.api('GET', '/user', admin())).body as { name: string }[];
    expect(users.filter((u) => u.name === 'admin')).toHaveLength(1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('shows an unknown page as a readable error, not a blank page', async () => {
    await ui.page.goto(`${flow.uiUrl}#/no-such-page`);
    await ui.page.getByRole('alert').filter({ hasText: 'There is no page at /no-such-page' }).waitFor();
    expect(ui.pageErrors).toEqual([]);
  });

  it("shows a proxy's HTML error page as its status, not as markup", async () => {
    const html = '<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>';
    await ui.page.route('**/client', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: html }));
    try {
      await ui.page.locator('#navigate-clients').click();
      const error = ui.page.locator('.clients-page .error-box');
      await waitForText(error.locator('span'), '502 Bad Gateway');
      expect(await error.textContent()).not.toContain('<h1>');
    } finally {
      await ui.page.unroute('**/client');
    }
  });
});
