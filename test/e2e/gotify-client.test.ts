/**
 * Compatibility proof: drives Flow with the published `gotify-client` npm package (a client
 * generated from Gotify's swagger spec), unchanged. It authenticates with X-Gotify-Key only,
 * sends Content-Type: application/json even on bodiless GET/DELETE, and posts images as multipart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GotifyClient } from 'gotify-client';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let gotify: GotifyClient;
beforeAll(async () => {
  s = await startTestServer();
  // Like Gotify's web UI: log in with Basic once to get a client token, then use the token.
  const login = await s.createClient('gotify-client login');
  gotify = new GotifyClient(s.url, { client: login.token });
});
afterAll(() => s?.close());

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

describe('gotify-client (npm) against Flow', () => {
  it('reads health, version and the current user', async () => {
    // Flow's additive `replica` rides along; Gotify's two fields are what the client reads.
    expect(await gotify.health.getHealth()).toMatchObject({ health: 'green', database: 'green' });
    expect((await gotify.version.getVersion()).version).toBe('2.9.1');
    // Gotify's user object; Flow adds `defaultAdminPassword: true` for admins while the initial password is kept.
    expect(await gotify.current.currentUser()).toMatchObject({ id: 1, name: 'admin', admin: true });
  });

  it('manages applications, sends and reads messages, deletes them', async () => {
    const app = await gotify.application.createApp({ name: 'from gotify-client', description: 'npm', defaultPriority: 6 });
    expect(app).toMatchObject({ name: 'from gotify-client', description: 'npm', defaultPriority: 6, internal: false });
    const updated = await gotify.application.updateApplication(app.id, { name: 'renamed', description: 'npm', defaultPriority: 1 });
    expect(updated.name).toBe('renamed');
    const withImage = await gotify.application.uploadAppImage(app.id, { file: new File([PNG], 'icon.png', { type: 'image/png' }) });
    expect(withImage.image).toMatch(/^image\/.+\.png$/);
    expect((await gotify.application.getApps()).map((a) => a.name)).toContain('renamed');

    const sender = new GotifyClient(s.url, { app: app.token, client: (gotify as any).httpClient.authKeys.client });
    const sent = await sender.message.createMessage({ message: 'hello from npm', title: 'npm', priority: 8, extras: { 'client::display': { contentType: 'text/plain' } } });
    expect(sent).toMatchObject({ appid: app.id, message: 'hello from npm', title: 'npm', priority: 8 });
    const second = await sender.message.createMessage({ message: 'second' });
    expect(second.title).toBe('renamed');
    expect(second.priority).toBe(1);

    const page = await gotify.message.getMessages({ limit: 1 });
    expect(page.messages.map((m) => m.id)).toEqual([second.id]);
    expect(page.paging.next).toContain('since=' + second.id);
    const appPage = await gotify.application.getAppMessages({ id: app.id, limit: 10 });
    expect(appPage.messages.map((m) => m.id)).toEqual([second.id, sent.id]);

    await gotify.message.deleteMessage(second.id);
    expect((await gotify.message.getMessages({ limit: 10 })).messages.map((m) => m.id)).toEqual([sent.id]);
    await gotify.application.deleteAppMessages(app.id);
    expect((await gotify.message.getMessages({})).messages).toEqual([]);
    await sender.message.createMessage({ message: 'third' });
    await gotify.message.deleteMessages();
    expect((await gotify.message.getMessages({})).messages).toEqual([]);

    await gotify.application.removeAppImage(app.id);
    await gotify.application.deleteApp(app.id);
    expect((await gotify.application.getApps()).some((a) => a.id === app.id)).toBe(false);
  });

  it('manages clients and users, and changes the password', async () => {
    const c = await gotify.client.createClient({ name: 'npm client' });
    expect(c.token).toMatch(/^C/);
    expect((await gotify.client.updateClient(c.id, { name: 'npm client 2' })).name).toBe('npm client 2');
    expect((await gotify.client.getClients()).map((x) => x.name)).toContain('npm client 2');
    await gotify.client.deleteClient(c.id);
    expect((await gotify.client.getClients()).some((x) => x.id === c.id)).toBe(false);

    const u = await gotify.user.createUser({ name: 'npmuser', pass: 'pw', admin: false });
    expect(u).toMatchObject({ name: 'npmuser', admin: false });
    expect(await gotify.user.getUser(u.id)).toEqual(u);
    expect((await gotify.user.updateUser(u.id, { name: 'npmuser2', admin: false })).name).toBe('npmuser2');
    expect((await gotify.user.getUsers()).map((x) => x.name)).toEqual(['admin', 'npmuser2']);
    await gotify.user.deleteUser(u.id);
    expect((await gotify.user.getUsers()).map((x) => x.name)).toEqual(['admin']);

    await gotify.current.updateCurrentUser({ pass: 'changed' });
    expect((await s.api('GET', '/current/user', { auth: s.adminAuth })).status).toBe(401);
    expect((await s.api('GET', '/current/user', { auth: 'Basic ' + Buffer.from('admin:changed').toString('base64') })).status).toBe(200);
  });
});
