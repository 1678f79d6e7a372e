/**
 * Application images: generated avatars (initials and a colour from the name) wherever an application is
 * shown, and uploading, changing and removing an image from the application's edit dialog and its table row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';
import { testPng } from './support/png.js';

let flow: UiServer;
let ui: UiBrowser;
let backup: { id: number; token: string };
let weather: { id: number; token: string };

beforeAll(async () => {
  flow = await startUiServer();
  backup = await flow.server.createApp({ name: 'Backup server' });
  weather = await flow.server.createApp({ name: 'weather' });
  await flow.server.api('POST', '/message', { token: backup.token, json: { title: 'Backup done', message: 'ok' } });
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

const admin = () => ({ auth: flow.server.adminAuth });
const sideItem = (id: number) => ui.page.locator(`#message-navigation .item[data-id="${id}"]`);
const appRow = (id: number) => ui.page.locator(`#app-table tbody tr[data-id="${id}"]`);
const dialog = () => ui.page.locator('.app-dialog');

async function apiImage(id: number): Promise<string> {
  const apps = (await flow.server.api('GET', '/application', admin())).body as { id: number; image: string }[];
  return apps.find((a) => a.id === id)!.image;
}

async function avatarOf(scope: ReturnType<typeof sideItem>) {
  const avatar = scope.locator('.avatar').first();
  await avatar.waitFor();
  return avatar.evaluate((el) => ({
    tag: el.tagName.toLowerCase(),
    initials: el.getAttribute('data-initials'),
    background: getComputedStyle(el).backgroundColor,
    src: el.getAttribute('src'),
  }));
}

describe('generated avatars', () => {
  it('shows initials on a colour from the name in the sidebar, the messages and the applications table', async () => {
    const side = await avatarOf(sideItem(backup.id));
    expect(side).toMatchObject({ tag: 'span', initials: 'BS' });
    const other = await avatarOf(sideItem(weather.id));
    expect(other).toMatchObject({ tag: 'span', initials: 'We' });
    // Different names, different colours; the same name always the same colour.
    expect(other.background).not.toBe(side.background);
    const message = await avatarOf(ui.page.locator('#messages .message').first());
    expect(message).toMatchObject({ tag: 'span', initials: 'BS', background: side.background });
    await ui.page.locator('#navigate-apps').click();
    await waitForHeading(ui.page, 'Applications');
    expect(await avatarOf(appRow(backup.id))).toMatchObject({ tag: 'span', initials: 'BS', background: side.background });
    // The initials are drawn by CSS: the link's text stays the application's name.
    expect((await sideItem(backup.id).textContent())?.trim()).toBe('Backup server');
  });
});

describe('application image', () => {
  it('uploads an image from the edit dialog, shown at once in the dialog, the table and the sidebar', async () => {
    await appRow(backup.id).locator('.edit').click();
    await dialog().getByRole('button', { name: 'Save' }).waitFor();
    expect(await dialog().locator('.remove-image').count()).toBe(0);
    await screenshot(ui.page, 'application-edit-no-image');
    await dialog().locator('input[type="file"]').setInputFiles({ name: 'backup.png', mimeType: 'image/png', buffer: testPng() });
    await ui.page.getByRole('status').filter({ hasText: 'Image uploaded' }).first().waitFor();
    const image = await apiImage(backup.id);
    expect(image).toMatch(/^image\/.+\.png$/);
    await dialog().locator(`img.avatar[src$="${image}"]`).waitFor();
    await appRow(backup.id).locator(`img.avatar[src$="${image}"]`).waitFor();
    await sideItem(backup.id).locator(`img.avatar[src$="${image}"]`).waitFor();
    // It really loaded (a broken image would fall back to the initials).
    expect(await sideItem(backup.id).locator('img.avatar').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(32);
    await screenshot(ui.page, 'application-edit-image');
  });

  it('changes the image', async () => {
    const before = await apiImage(backup.id);
    await dialog().getByText('Change image').waitFor();
    await dialog().locator('input[type="file"]').setInputFiles({ name: 'other.png', mimeType: 'image/png', buffer: testPng(24, [20, 140, 60], [240, 240, 240]) });
    await ui.page.getByRole('status').filter({ hasText: 'Image changed' }).first().waitFor();
    const after = await apiImage(backup.id);
    expect(after).toMatch(/^image\//);
    expect(after).not.toBe(before);
    await sideItem(backup.id).locator(`img.avatar[src$="${after}"]`).waitFor();
  });

  it('removes the image: the generated avatar is back everywhere', async () => {
    await dialog().getByRole('button', { name: 'Remove image' }).click();
    await ui.page.getByRole('status').filter({ hasText: 'Image removed' }).first().waitFor();
    expect(await apiImage(backup.id)).toBe('static/defaultapp.png');
    await sideItem(backup.id).locator('.avatar.generated[data-initials="BS"]').waitFor();
    await appRow(backup.id).locator('.avatar.generated').waitFor();
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    await dialog().waitFor({ state: 'detached' });
  });

  it('uploads and removes from the table row too, on a phone', async () => {
    await ui.page.setViewportSize({ width: 390, height: 844 });
    await appRow(weather.id).locator('td.image input[type="file"]').setInputFiles({ name: 'w.png', mimeType: 'image/png', buffer: testPng() });
    await ui.page.getByRole('status').filter({ hasText: 'Image uploaded' }).first().waitFor();
    await appRow(weather.id).locator('img.avatar').waitFor();
    await screenshot(ui.page, 'applications-images-390');
    await appRow(weather.id).getByRole('button', { name: 'Remove image of weather' }).click();
    await appRow(weather.id).locator('.avatar.generated').waitFor();
    expect(await apiImage(weather.id)).toBe('static/defaultapp.png');
    await ui.page.setViewportSize({ width: 1280, height: 800 });
    expect(ui.pageErrors).toEqual([]);
  });
});

describe('retention in the edit dialog', () => {
  it('sets, shows and clears how long messages are kept', async () => {
    await ui.page.locator('#navigate-apps').click();
    await waitForHeading(ui.page, 'Applications');
    await appRow(weather.id).locator('.edit').click();
    const count = dialog().getByLabel('At most (messages)');
    const days = dialog().getByLabel('For at most (days)');
    expect(await count.inputValue()).toBe('');
    await count.fill('abc');
    await dialog().locator('.field-error').filter({ hasText: 'whole number' }).waitFor();
    expect(await dialog().getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await count.fill('50');
    await days.fill('7');
    await screenshot(ui.page, 'application-edit-retention');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await dialog().waitFor({ state: 'detached' });
    const app = () => flow.server.api('GET', '/application', admin()).then((r) => r.body.find((a: { id: number }) => a.id === weather.id));
    expect((await app()).retention).toEqual({ maxCount: 50, maxAgeSeconds: 7 * 86_400 });

    await appRow(weather.id).locator('.edit').click();
    expect(await count.inputValue()).toBe('50');
    expect(await days.inputValue()).toBe('7');
    await count.fill('');
    await days.fill('');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await dialog().waitFor({ state: 'detached' });
    expect((await app()).retention).toEqual({ maxCount: null, maxAgeSeconds: null });
    expect(ui.pageErrors).toEqual([]);
  });
});
