import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

let s: TestServer;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer();
  bob = await s.createUser('bob');
});
afterAll(() => s?.close());

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

function upload(appId: number, auth: string, file: Blob | string, filename = 'icon.png', field = 'file') {
  const fd = new FormData();
  if (typeof file === 'string') fd.append(field, file);
  else fd.append(field, file, filename);
  return s.api('POST', `/application/${appId}/image`, { auth, body: fd });
}

describe('/application', () => {
  it('creates applications with Gotify shape and increasing sort keys', async () => {
    const a = await s.api('POST', '/application', { auth: bob.auth, json: { name: 'one', description: 'd', defaultPriority: 5 } });
    expect(a.status).toBe(200);
    // Gotify's fields, then Flow's additive `retention` (ignored by Gotify clients).
    expect(Object.keys(a.body)).toEqual(['id', 'token', 'name', 'description', 'internal', 'image', 'defaultPriority', 'lastUsed', 'sortKey', 'retention']);
    expect(a.body).toMatchObject({ name: 'one', description: 'd', internal: false, image: 'static/defaultapp.png', defaultPriority: 5, lastUsed: null, sortKey: 'a0' });
    expect(a.body.retention).toEqual({ maxCount: null, maxAgeSeconds: null });
    const b = await s.api('POST', '/application', { auth: bob.auth, form: { name: 'two', defaultPriority: '2' } });
    expect(b.body).toMatchObject({ name: 'two', defaultPriority: 2, sortKey: 'a1' });
    const list = await s.api('GET', '/application', { auth: bob.auth });
    expect(list.body.map((x: any) => x.name)).toEqual(['one', 'two']);
  });

  it('validates input', async () => {
    const noName = await s.api('POST', '/application', { auth: bob.auth, json: { description: 'x' } });
    expect(noName.status).toBe(400);
    expect(noName.body.errorDescription).toBe("Field 'name' is required");
    const badPrio = await s.api('POST', '/application', { auth: bob.auth, json: { name: 'x', defaultPriority: 'high' } });
    expect(badPrio.status).toBe(400);
    const badForm = await s.api('POST', '/application', { auth: bob.auth, form: { name: 'x', defaultPriority: '1.5' } });
    expect(badForm.status).toBe(400);
    const dupKey = await s.api('POST', '/application', { auth: bob.auth, json: { name: 'x', sortKey: 'a0' } });
    expect(dupKey.status).toBe(400);
    expect(dupKey.body.errorDescription).toBe('sort key is not unique');
  });

  it('updates with PUT', async () => {
    const app = await s.createApp({ name: 'old', description: 'd', defaultPriority: 4 }, bob.auth);
    const r = await s.api('PUT', `/application/${app.id}`, { auth: bob.auth, json: { name: 'new', defaultPriority: 1 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: app.id, token: app.token, name: 'new', description: '', defaultPriority: 1, sortKey: app.sortKey });
    expect((await s.api('PUT', `/application/${app.id}`, { auth: bob.auth, json: {} })).status).toBe(400);
  });

  it('deletes an application with its messages', async () => {
    const app = await s.createApp({ name: 'doomed' }, bob.auth);
    const m = await s.api('POST', '/message', { token: app.token, json: { message: 'bye' } });
    expect(m.status).toBe(200);
    const del = await s.api('DELETE', `/application/${app.id}`, { auth: bob.auth });
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect((await s.api('GET', '/message', { auth: bob.auth })).body.messages.some((x: any) => x.id === m.body.id)).toBe(false);
    expect((await s.api('DELETE', `/message/${m.body.id}`, { auth: bob.auth })).status).toBe(404);
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'x' } })).status).toBe(401);
  });

  it('refuses to delete an internal application (400) but allows updating it', async () => {
    const internal = await s.flow.app.services.applications.createInternal(bob.id, { name: 'plugin app', description: 'auto generated' });
    const list = await s.api('GET', '/application', { auth: bob.auth });
    expect(list.body.find((a: any) => a.id === internal.id).internal).toBe(true);
    const del = await s.api('DELETE', `/application/${internal.id}`, { auth: bob.auth });
    expect(del.status).toBe(400);
    expect(del.body).toEqual({ error: 'Bad Request', errorCode: 400, errorDescription: 'cannot delete internal application' });
    const put = await s.api('PUT', `/application/${internal.id}`, { auth: bob.auth, json: { name: 'renamed' } });
    expect(put.body).toMatchObject({ name: 'renamed', internal: true });
    await s.flow.app.services.applications.setInternal(internal.id, false);
    expect((await s.api('DELETE', `/application/${internal.id}`, { auth: bob.auth })).status).toBe(200);
  });

  it("hides other users' applications behind 404", async () => {
    const adminApp = await s.createApp({ name: 'admin app' });
    const text = `app with id ${adminApp.id} doesn't exists`;
    for (const [m, p, o] of [
      ['PUT', `/application/${adminApp.id}`, { json: { name: 'x' } }],
      ['DELETE', `/application/${adminApp.id}`, {}],
      ['DELETE', `/application/${adminApp.id}/image`, {}],
    ] as const) {
      const r = await s.api(m, p, { auth: bob.auth, ...o });
      expect(r.status).toBe(404);
      expect(r.body.errorDescription).toBe(text);
    }
    expect((await upload(adminApp.id, bob.auth, new Blob([PNG]))).status).toBe(404);
    expect((await s.api('GET', `/application/${adminApp.id}/message`, { auth: bob.auth })).status).toBe(404);
    expect((await s.api('DELETE', `/application/${adminApp.id}/message`, { auth: bob.auth })).status).toBe(404);
    expect((await s.api('DELETE', '/application/abc', { auth: bob.auth })).body.errorDescription).toBe('invalid id');
  });
});

describe('/application/:id/image', () => {
  it('uploads, serves, replaces and removes an image', async () => {
    const app = await s.createApp({ name: 'pic' }, bob.auth);
    const r = await upload(app.id, bob.auth, new Blob([PNG]));
    expect(r.status).toBe(200);
    expect(r.body.image).toMatch(/^image\/[A-Za-z0-9_-]{25}\.png$/);
    const served = await fetch(`${s.url}/${r.body.image}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(PNG)).toBe(true);

    const r2 = await upload(app.id, bob.auth, new Blob([PNG]), 'second.PNG');
    expect(r2.body.image).not.toBe(r.body.image);
    expect((await fetch(`${s.url}/${r.body.image}`)).status).toBe(404);
    const imagesDir = path.join(s.dataDir, 'images');
    expect(readdirSync(imagesDir)).toEqual([r2.body.image.slice('image/'.length)]);

    const del = await s.api('DELETE', `/application/${app.id}/image`, { auth: bob.auth });
    expect(del.status).toBe(200);
    expect(del.body.image).toBe('static/defaultapp.png');
    expect(existsSync(path.join(imagesDir, r2.body.image.slice('image/'.length)))).toBe(false);
    const again = await s.api('DELETE', `/application/${app.id}/image`, { auth: bob.auth });
    expect(again.status).toBe(400);
    expect(again.body.errorDescription).toBe(`app with id ${app.id} does not have a customized image`);
  });

  it('rejects missing files, non-images and bad extensions', async () => {
    const app = await s.createApp({ name: 'pic2' }, bob.auth);
    const missing = await upload(app.id, bob.auth, 'just text', 'x', 'file');
    expect(missing.status).toBe(400);
    expect(missing.body.errorDescription).toBe("file with key 'file' must be present");
    const other = await upload(app.id, bob.auth, new Blob([PNG]), 'a.png', 'picture');
    expect(other.body.errorDescription).toBe("file with key 'file' must be present");
    const text = await upload(app.id, bob.auth, new Blob(['hello world, not an image']), 'a.png');
    expect(text.status).toBe(400);
    expect(text.body.errorDescription).toBe('file must be an image');
    const ext = await upload(app.id, bob.auth, new Blob([PNG]), 'a.svg');
    expect(ext.status).toBe(400);
    expect(ext.body.errorDescription).toBe('invalid file extension');
    const json = await s.api('POST', `/application/${app.id}/image`, { auth: bob.auth, json: { file: 'x' } });
    expect(json.status).toBe(400);
    expect(readdirSync(path.join(s.dataDir, 'images'))).toEqual([]);
  });

  it('accepts images over limits.bodybytes, up to limits.imagebytes (10 MiB): a 3 MiB phone photo', async () => {
    // Gotify sets no body limit; Flow's 1 MiB limits.bodybytes does not apply to this route.
    const app = await s.createApp({ name: 'photo' }, bob.auth);
    const photo = Buffer.concat([PNG, Buffer.alloc(3 * 1024 * 1024)]);
    const r = await upload(app.id, bob.auth, new Blob([photo]), 'photo.png');
    expect(r.status).toBe(200);
    const served = await fetch(`${s.url}/${r.body.image}`);
    expect(Buffer.from(await served.arrayBuffer()).equals(photo)).toBe(true);
    await s.api('DELETE', `/application/${app.id}`, { auth: bob.auth });
  });

  it('answers an upload over limits.imagebytes with 413 and the error body, and stores nothing', async () => {
    const app = await s.createApp({ name: 'big' }, bob.auth);
    const big = Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024 + 10)]);
    const r = await upload(app.id, bob.auth, new Blob([big]), 'big.png');
    expect(r.status).toBe(413);
    expect(r.body).toEqual({
      error: 'Payload Too Large',
      errorCode: 413,
      errorDescription: `request body too large: the limit is ${10 * 1024 * 1024} bytes (limits.imagebytes)`,
    });
    expect(readdirSync(path.join(s.dataDir, 'images'))).toEqual([]);
    // Every other route keeps limits.bodybytes.
    const json = await s.api('POST', '/application', { auth: bob.auth, json: { name: 'x', description: 'd'.repeat(1024 * 1024) } });
    expect(json.status).toBe(413);
    expect(json.body.errorDescription).toBe(`request body too large: the limit is ${1024 * 1024} bytes (limits.bodybytes)`);
  });

  it('deletes the stored image with its application', async () => {
    const app = await s.createApp({ name: 'pic3' }, bob.auth);
    const r = await upload(app.id, bob.auth, new Blob([PNG]));
    const file = path.join(s.dataDir, 'images', r.body.image.slice('image/'.length));
    expect(existsSync(file)).toBe(true);
    await s.api('DELETE', `/application/${app.id}`, { auth: bob.auth });
    expect(existsSync(file)).toBe(false);
  });

  it('does not serve arbitrary paths under /image', async () => {
    for (const p of ['/image/..%2Fdb%2FCURRENT', '/image/CURRENT', '/image/x.txt']) {
      expect((await fetch(s.url + p)).status).toBe(404);
    }
  });
});
