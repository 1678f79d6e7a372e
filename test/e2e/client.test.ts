import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

let s: TestServer;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer();
  bob = await s.createUser('bob');
});
afterAll(() => s?.close());

describe('/client', () => {
  it('creates, lists, renames and deletes clients with Gotify shapes', async () => {
    const c = await s.api('POST', '/client', { auth: bob.auth, json: { name: 'phone' } });
    expect(c.status).toBe(200);
    expect(Object.keys(c.body)).toEqual(['id', 'token', 'name', 'lastUsed']);
    expect(c.body).toMatchObject({ name: 'phone', lastUsed: null });
    // Using the token records lastUsed.
    expect((await s.api('GET', '/current/user', { token: c.body.token })).status).toBe(200);
    const list = await s.api('GET', '/client', { auth: bob.auth });
    expect(list.body).toHaveLength(1);
    expect(list.body[0].id).toBe(c.body.id);
    expect(Date.parse(list.body[0].lastUsed)).not.toBeNaN();

    const put = await s.api('PUT', `/client/${c.body.id}`, { auth: bob.auth, json: { name: 'tablet' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: c.body.id, token: c.body.token, name: 'tablet' });

    const del = await s.api('DELETE', `/client/${c.body.id}`, { auth: bob.auth });
    expect(del.status).toBe(200);
    expect((await s.api('GET', '/client', { auth: bob.auth })).body).toEqual([]);
    expect((await s.api('GET', '/current/user', { token: c.body.token })).status).toBe(401);
  });

  it('accepts form bodies and requires a name', async () => {
    const c = await s.api('POST', '/client', { auth: bob.auth, form: { name: 'form client' } });
    expect(c.body.name).toBe('form client');
    const r = await s.api('POST', '/client', { auth: bob.auth, json: {} });
    expect(r.status).toBe(400);
    expect(r.body.errorDescription).toBe("Field 'name' is required");
    const put = await s.api('PUT', `/client/${c.body.id}`, { auth: bob.auth, json: { name: '' } });
    expect(put.status).toBe(400);
  });

  it("hides other users' clients behind 404 and validates ids", async () => {
    const mine = await s.createClient('admin only');
    for (const [m, body] of [['PUT', { name: 'x' }], ['DELETE', undefined]] as const) {
      const r = await s.api(m, `/client/${mine.id}`, { auth: bob.auth, json: body });
      expect(r.status).toBe(404);
      expect(r.body.errorDescription).toBe(`client with id ${mine.id} doesn't exists`);
    }
    expect((await s.api('GET', '/client', { auth: bob.auth })).body.some((c: any) => c.id === mine.id)).toBe(false);
    expect((await s.api('DELETE', '/client/x1', { auth: bob.auth })).body.errorDescription).toBe('invalid id');
    expect((await s.api('DELETE', '/client/-1', { auth: bob.auth })).status).toBe(400);
    expect((await s.api('DELETE', '/client/9999', { auth: bob.auth })).status).toBe(404);
    // Still usable by its owner.
    expect((await s.api('GET', '/current/user', { token: mine.token })).status).toBe(200);
  });
});
