import { afterEach, describe, expect, it } from 'vitest';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

const REPO_PLUGINS = fileURLToPath(new URL('../../plugins/', import.meta.url));
const ECHO = 'github.com/flow/plugins/echo';
const RSS = 'github.com/flow/plugins/rss';

let s: PluginServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** echo (no permission in its manifest: everyone) and rss (manifest: admins) from the repo's folders. */
async function start(): Promise<PluginServer> {
  const dir = await pluginsDir();
  await symlink(path.join(REPO_PLUGINS, 'echo'), path.join(dir, 'echo'));
  await symlink(path.join(REPO_PLUGINS, 'rss'), path.join(dir, 'rss'));
  const server = await startPluginServer(dir);
  await waitFor(async () => (await server.plugins()).length === 2, 'both plugins listed');
  return server;
}

const modules = (list: any[]) => list.map((p) => p.modulePath).sort();

describe('plugin permissions', { timeout: 120_000 }, () => {
  it('lists every plugin with its permission: the manifest default until an admin decides', async () => {
    s = await start();
    const r = await s.api('GET', '/plugin/permission', { auth: s.adminAuth });
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      { modulePath: ECHO, name: expect.any(String), permission: 'everyone' },
      { modulePath: RSS, name: expect.any(String), permission: 'admins' },
    ]);
    const bob = await s.createUser('bob');
    expect((await s.api('GET', '/plugin/permission', { auth: bob.auth })).status).toBe(403);
    expect((await s.api('PUT', '/plugin/permission', { auth: bob.auth, json: { modulePath: ECHO, permission: 'nobody' } })).status).toBe(403);
  });

  it('hides a plugin from users who may not use it: absent from GET /plugin, 404 on its endpoints and webhooks', async () => {
    s = await start();
    const bob = await s.createUser('bob');
    // rss is admins-only by its manifest: bob sees echo only, the admin both.
    expect(modules(await s.plugins(bob.auth))).toEqual([ECHO]);
    expect(modules(await s.plugins())).toEqual([ECHO, RSS]);
    const bobRss = (await s.flow.app.store.pluginConfs.listByUser(bob.id)).find((c) => c.modulePath === RSS)!;
    for (const [method, p] of [
      ['POST', `/plugin/${bobRss.id}/enable`],
      ['GET', `/plugin/${bobRss.id}/config`],
      ['GET', `/plugin/${bobRss.id}/display`],
    ] as const) {
      const r = await s.api(method, p, { auth: bob.auth });
      expect([p, r.status]).toEqual([p, 404]);
    }

    // Opened to everyone: bob sees it and may enable it.
    const put = await s.api('PUT', '/plugin/permission', { auth: s.adminAuth, json: { modulePath: RSS, permission: 'everyone' } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ modulePath: RSS, name: expect.any(String), permission: 'everyone' });
    expect(modules(await s.plugins(bob.auth))).toEqual([ECHO, RSS]);
    expect((await s.api('POST', `/plugin/${bobRss.id}/enable`, { auth: bob.auth })).status).toBe(200);

    // Closed to nobody: bob's enabled instance is disabled, and even the admin no longer sees it.
    const echoConf = (await s.plugins(bob.auth)).find((p) => p.modulePath === ECHO)!;
    expect((await s.api('POST', `/plugin/${echoConf.id}/enable`, { auth: bob.auth })).status).toBe(200);
    expect((await s.api('PUT', '/plugin/permission', { auth: s.adminAuth, json: { modulePath: ECHO, permission: 'nobody' } })).status).toBe(200);
    expect(modules(await s.plugins(bob.auth))).toEqual([RSS]);
    expect(modules(await s.plugins())).toEqual([RSS]);
    expect(s.flow.app.store.pluginConfs.get(echoConf.id)!.enabled).toBe(false);
    const hook = await fetch(`${s.url}/plugin/${echoConf.id}/custom/${echoConf.token}/echo`);
    expect(hook.status).toBe(404);

    // The rule survives a restart.
    await s.restart();
    expect((await s.api('GET', '/plugin/permission', { auth: s.adminAuth })).body.map((p: any) => p.permission)).toEqual(['nobody', 'everyone']);
  });

  it('rejects bad values with 400 and unknown modules with 404 (Gotify error body)', async () => {
    s = await start();
    let r = await s.api('PUT', '/plugin/permission', { auth: s.adminAuth, json: { modulePath: ECHO, permission: 'friends' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'Bad Request', errorCode: 400, errorDescription: 'permission must be one of everyone, admins, nobody' });
    r = await s.api('PUT', '/plugin/permission', { auth: s.adminAuth, json: { permission: 'admins' } });
    expect(r.status).toBe(400);
    r = await s.api('PUT', '/plugin/permission', { auth: s.adminAuth, json: { modulePath: 'example.com/nope', permission: 'admins' } });
    expect(r.status).toBe(404);
    expect(r.body.errorCode).toBe(404);
  });

  it('creates no internal application for a user until they enable a messenger plugin', async () => {
    s = await start();
    const bob = await s.createUser('bob');
    const echoConf = (await s.plugins(bob.auth)).find((p) => p.modulePath === ECHO)!;
    expect((await s.api('GET', '/application', { auth: bob.auth })).body).toEqual([]);
    expect((await s.api('POST', `/plugin/${echoConf.id}/enable`, { auth: bob.auth })).status).toBe(200);
    const apps = (await s.api('GET', '/application', { auth: bob.auth })).body;
    expect(apps).toEqual([expect.objectContaining({ internal: true, description: `auto generated application for ${ECHO}` })]);
  });
});
