import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s?.close());

describe('GET|HEAD /health, GET /version', () => {
  it('reports green health without auth, and which replica answered (a server alone is the leader)', async () => {
    const r = await s.api('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ health: 'green', database: 'green', replica: { id: expect.any(String), name: expect.any(String), role: 'leader' } });
    expect(r.body.replica.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers HEAD /health with 200 and no body', async () => {
    const r = await s.api('HEAD', '/health');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });

  it('reports the Gotify API version', async () => {
    const r = await s.api('GET', '/version');
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('2.9.1');
    expect(typeof r.body.commit).toBe('string');
    expect(Number.isNaN(Date.parse(r.body.buildDate))).toBe(false);
  });

  it('answers unknown routes with the Gotify 404 body', async () => {
    for (const [m, p] of [['GET', '/nope'], ['POST', '/health'], ['PATCH', '/message'], ['GET', '/application/1']]) {
      const r = await s.api(m!, p!, { auth: s.adminAuth });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: 'Not Found', errorCode: 404, errorDescription: 'page not found' });
    }
  });

  it('answers OPTIONS on any path with 200 and an empty body, as Gotify', async () => {
    for (const p of ['/message', '/anything/else']) {
      const r = await s.api('OPTIONS', p);
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
    }
  });

  it('serves the default application image', async () => {
    const res = await fetch(s.url + '/static/defaultapp.png');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const buf = Buffer.from(await res.arrayBuffer());
    expect(buf.subarray(1, 4).toString()).toBe('PNG');
  });
});
