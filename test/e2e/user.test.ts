import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s?.close());

describe('default admin', () => {
  it('is created on an empty database', async () => {
    const r = await s.api('GET', '/user', { auth: s.adminAuth });
    expect(r.body).toEqual([{ id: 1, name: 'admin', admin: true }]);
  });
});

describe('POST /user', () => {
  it('lets an admin create users and admins (JSON and form)', async () => {
    const a = await s.api('POST', '/user', { auth: s.adminAuth, json: { name: 'ann', pass: 'pw', admin: true } });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ id: 2, name: 'ann', admin: true });
    const b = await s.api('POST', '/user', { auth: s.adminAuth, form: { name: 'ben', pass: 'pw', admin: 'false' } });
    expect(b.status).toBe(200);
    expect(b.body).toEqual({ id: 3, name: 'ben', admin: false });
    expect((await s.api('GET', '/current/user', { auth: basic('ben', 'pw') })).body.name).toBe('ben');
  });

  it('refuses duplicates with 400 "username already exists"', async () => {
    await s.createUser('dup');
    const r = await s.api('POST', '/user', { auth: s.adminAuth, json: { name: 'dup', pass: 'x' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'Bad Request', errorCode: 400, errorDescription: 'username already exists' });
  });

  it('requires name and pass', async () => {
    let r = await s.api('POST', '/user', { auth: s.adminAuth, json: { pass: 'x' } });
    expect(r.status).toBe(400);
    expect(r.body.errorDescription).toBe("Field 'name' is required");
    r = await s.api('POST', '/user', { auth: s.adminAuth, json: { name: 'x' } });
    expect(r.body.errorDescription).toBe("Field 'pass' is required");
  });

  it('rejects wrong types and malformed JSON with 400 and creates nothing', async () => {
    for (const body of ['{"name":"x","pass":"y","admin":"yes"}', '{"name":5,"pass":"y"}', '{"name":', '[1]']) {
      const r = await s.api('POST', '/user', { auth: s.adminAuth, body, headers: { 'Content-Type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('Bad Request');
    }
    expect((await s.api('GET', '/user', { auth: s.adminAuth })).body).toHaveLength(1);
  });

  it('refuses anonymous (401) and non-admin (403) callers while registration is off', async () => {
    const bob = await s.createUser('bob');
    const anon = await s.api('POST', '/user', { json: { name: 'x', pass: 'y' } });
    expect(anon.status).toBe(401);
    expect(anon.body.errorDescription).toBe('you are not allowed to access this api');
    const nonAdmin = await s.api('POST', '/user', { auth: bob.auth, json: { name: 'x', pass: 'y' } });
    expect(nonAdmin.status).toBe(403);
  });

  it('with registration on, lets anyone create a non-admin user only', async () => {
    await s.close();
    s = await startTestServer({ config: { registration: true } });
    const ok = await s.api('POST', '/user', { json: { name: 'self', pass: 'y' } });
    expect(ok.status).toBe(200);
    expect(ok.body.admin).toBe(false);
    const admin = await s.api('POST', '/user', { json: { name: 'boss', pass: 'y', admin: true } });
    expect(admin.status).toBe(401);
    expect(admin.body.errorDescription).toBe('you are not allowed to create an admin user');
  });
});

describe('GET|POST|DELETE /user/:id', () => {
  it('gets a user, 404 for a missing one, 400 for a non-numeric id', async () => {
    const bob = await s.createUser('bob');
    expect((await s.api('GET', `/user/${bob.id}`, { auth: s.adminAuth })).body).toEqual({ id: bob.id, name: 'bob', admin: false });
    const missing = await s.api('GET', '/user/99', { auth: s.adminAuth });
    expect(missing.status).toBe(404);
    expect(missing.body.errorDescription).toBe('user does not exist');
    const bad = await s.api('GET', '/user/abc', { auth: s.adminAuth });
    expect(bad.status).toBe(400);
    expect(bad.body.errorDescription).toBe('invalid id');
  });

  it('updates name, admin flag and (optionally) the password', async () => {
    const bob = await s.createUser('bob', 'old');
    let r = await s.api('POST', `/user/${bob.id}`, { auth: s.adminAuth, json: { name: 'robert', admin: true } });
    expect(r.body).toEqual({ id: bob.id, name: 'robert', admin: true });
    expect((await s.api('GET', '/current/user', { auth: basic('robert', 'old') })).status).toBe(200);
    r = await s.api('POST', `/user/${bob.id}`, { auth: s.adminAuth, json: { name: 'robert', admin: false, pass: 'new' } });
    expect(r.status).toBe(200);
    expect((await s.api('GET', '/current/user', { auth: basic('robert', 'old') })).status).toBe(401);
    expect((await s.api('GET', '/current/user', { auth: basic('robert', 'new') })).status).toBe(200);
  });

  it('refuses to demote the last admin and to rename onto a taken name', async () => {
    const r = await s.api('POST', '/user/1', { auth: s.adminAuth, json: { name: 'admin', admin: false } });
    expect(r.status).toBe(400);
    expect(r.body.errorDescription).toBe('cannot delete last admin');
    await s.createUser('bob');
    const taken = await s.api('POST', '/user/1', { auth: s.adminAuth, json: { name: 'bob', admin: true } });
    expect(taken.status).toBe(400);
    expect(taken.body.errorDescription).toBe('username already exists');
    expect((await s.api('POST', '/user/77', { auth: s.adminAuth, json: { name: 'x' } })).status).toBe(404);
  });

  it('refuses to delete the last admin (400) and a missing user (404)', async () => {
    const r = await s.api('DELETE', '/user/1', { auth: s.adminAuth });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'Bad Request', errorCode: 400, errorDescription: 'cannot delete last admin' });
    expect((await s.api('DELETE', '/user/42', { auth: s.adminAuth })).status).toBe(404);
  });

  it('deletes a user with its applications, messages and clients', async () => {
    const bob = await s.createUser('bob');
    const app = await s.createApp({ name: 'bob app' }, bob.auth);
    const client = await s.createClient('bob phone', bob.auth);
    await s.api('POST', '/message', { token: app.token, json: { message: 'm' } });
    const del = await s.api('DELETE', `/user/${bob.id}`, { auth: s.adminAuth });
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect((await s.api('GET', `/user/${bob.id}`, { auth: s.adminAuth })).status).toBe(404);
    expect((await s.api('GET', '/current/user', { token: client.token })).status).toBe(401);
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'm' } })).status).toBe(401);
    expect((await s.api('GET', '/current/user', { auth: bob.auth })).status).toBe(401);
    // Nothing of bob's is left in the store.
    const store = s.flow.app.store;
    expect(store.applications.listByUser(bob.id)).toEqual([]);
    expect(store.clients.listByUser(bob.id)).toEqual([]);
    expect(await store.messages.listByUser(bob.id, 10)).toEqual([]);
  });

  it('lets a second admin delete the first; then that one is the last', async () => {
    const ann = await s.createUser('ann', 'pw', true);
    expect((await s.api('DELETE', '/user/1', { auth: ann.auth })).status).toBe(200);
    expect((await s.api('DELETE', `/user/${ann.id}`, { auth: ann.auth })).status).toBe(400);
  });
});

describe('current user', () => {
  it('changes the password with POST /current/user/password', async () => {
    const bob = await s.createUser('bob', 'one');
    const r = await s.api('POST', '/current/user/password', { auth: bob.auth, json: { pass: 'two' } });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect((await s.api('GET', '/current/user', { auth: basic('bob', 'one') })).status).toBe(401);
    expect((await s.api('GET', '/current/user', { auth: basic('bob', 'two') })).status).toBe(200);
    const missing = await s.api('POST', '/current/user/password', { auth: basic('bob', 'two'), json: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.errorDescription).toBe("Field 'pass' is required");
  });
});
