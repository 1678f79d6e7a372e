import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFlow } from '@flow/server';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('persistence', () => {
  it('keeps users, clients, applications and messages across a restart; ids keep increasing', async () => {
    s = await startTestServer();
    const bob = await s.createUser('bob', 'secret');
    const client = await s.createClient('phone', bob.auth);
    const app = await s.createApp({ name: 'app', defaultPriority: 2 }, bob.auth);
    const m1 = await s.api('POST', '/message', { token: app.token, json: { message: 'one', extras: { a: 1 } } });
    const m2 = await s.api('POST', '/message', { token: app.token, json: { message: 'two' } });
    // Deleting the newest message must not let its id be reused.
    await s.api('DELETE', `/message/${m2.body.id}`, { auth: bob.auth });
    const tmpApp = await s.createApp({ name: 'tmp' }, bob.auth);
    await s.api('DELETE', `/application/${tmpApp.id}`, { auth: bob.auth });

    await s.restart();

    expect((await s.api('GET', '/current/user', { auth: bob.auth })).body).toEqual({ id: bob.id, name: 'bob', admin: false });
    expect((await s.api('GET', '/current/user', { token: client.token })).status).toBe(200);
    const apps = await s.api('GET', '/application', { auth: bob.auth });
    expect(apps.body.map((a: any) => [a.id, a.token, a.name])).toEqual([[app.id, app.token, 'app']]);
    expect(Date.parse(apps.body[0].lastUsed)).not.toBeNaN();
    const msgs = await s.api('GET', '/message', { auth: bob.auth });
    expect(msgs.body.messages).toEqual([m1.body]);

    const m3 = await s.api('POST', '/message', { token: app.token, json: { message: 'three' } });
    expect(m3.body.id).toBeGreaterThan(m2.body.id);
    const app2 = await s.createApp({ name: 'after restart' }, bob.auth);
    expect(app2.id).toBeGreaterThan(tmpApp.id);
    expect(app2.sortKey > app.sortKey).toBe(true);
    const carl = await s.createUser('carl');
    expect(carl.id).toBeGreaterThan(bob.id);
    // The default admin is not created again.
    expect((await s.api('GET', '/user', { auth: s.adminAuth })).body.map((u: any) => u.name)).toEqual(['admin', 'bob', 'carl']);
  });

  it('keeps deletes across a restart (cascade committed in one batch)', async () => {
    s = await startTestServer();
    const bob = await s.createUser('bob');
    const app = await s.createApp({ name: 'app' }, bob.auth);
    await s.api('POST', '/message', { token: app.token, json: { message: 'x' } });
    await s.api('DELETE', `/user/${bob.id}`, { auth: s.adminAuth });
    await s.restart();
    expect((await s.api('GET', `/user/${bob.id}`, { auth: s.adminAuth })).status).toBe(404);
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'x' } })).status).toBe(401);
    expect(await s.flow.app.store.messages.listByUser(bob.id, 10)).toEqual([]);
  });

  it('refuses a second server on the same data dir with "data dir is in use"', async () => {
    // LevelDB's own lock, so LevelDB in every run (servers on one PostgreSQL database are allowed).
    s = await startTestServer({ config: { 'database.dialect': 'leveldb' } });
    const err = await startFlow({ config: { datadir: s.dataDir, 'server.port': 0, 'server.listenaddr': '127.0.0.1' }, quiet: true }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe('FLOW_ERR_STORE_LOCKED');
    expect(err?.message).toContain('data dir is in use');
    // The first server is unaffected.
    expect((await s.api('GET', '/health')).status).toBe(200);
  });

  it('creates the data dir layout and the default admin from config', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flow-layout-'));
    try {
      const flow = await startFlow({
        config: {
          datadir: path.join(dir, 'data'),
          'server.port': 0,
          'server.listenaddr': '127.0.0.1',
          'defaultuser.name': 'root',
          'defaultuser.pass': 'toor',
          passstrength: 4,
        },
        quiet: true,
      });
      try {
        expect(flow.dirs.plugins).toBe(path.join(dir, 'data', 'plugins'));
        const r = await fetch(flow.url + '/current/user', { headers: { Authorization: 'Basic ' + Buffer.from('root:toor').toString('base64') } });
        expect(await r.json()).toEqual({ id: 1, name: 'root', admin: true, defaultAdminPassword: true });
      } finally {
        await flow.close();
        await flow.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
