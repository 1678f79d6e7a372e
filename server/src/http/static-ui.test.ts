import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { get, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowState } from './state.js';
import { staticUi } from './static-ui.js';

let root: string;
let server: Server;
let base: string;

async function start(uiRoot: string): Promise<{ server: Server; base: string }> {
  const app = new Koa<FlowState>();
  app.use(staticUi({ root: uiRoot }));
  app.use((ctx) => {
    ctx.body = { api: ctx.path };
  });
  const s = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => s.once('listening', resolve));
  return { server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'flow-ui-'));
  await mkdir(path.join(root, 'assets'));
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>Flow</title>');
  await writeFile(path.join(root, 'assets', 'index-abc123.js'), `console.log(${JSON.stringify('x'.repeat(5000))});`);
  ({ server, base } = await start(root));
});

afterAll(async () => {
  server.close();
  await rm(root, { recursive: true, force: true });
});

describe('staticUi', () => {
  it('serves index.html at / with a CSP and revalidation', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('<title>Flow</title>');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await fetch(`${base}/`);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    // node:http rather than fetch: undici adds `Cache-Control: no-cache`, which (rightly) disables 304s.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${base}/`, { headers: { 'If-None-Match': etag! } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(304);
  });

  it('serves hashed assets gzipped and cached for a year', async () => {
    const res = await fetch(`${base}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(await res.text()).toContain('console.log');
  });

  it('leaves API paths, unknown assets and traversal attempts to the next middleware', async () => {
    for (const p of ['/plugin', '/message', '/assets/missing.js', '/assets/..%2Fsecret', '/static/defaultapp.png']) {
      const res = await fetch(`${base}${p}`);
      expect(await res.json(), p).toEqual({ api: expect.any(String) });
    }
    const post = await fetch(`${base}/`, { method: 'POST' });
    expect(await post.json()).toEqual({ api: '/' });
  });

  it('answers 503 with the build command when the UI was never built', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'flow-ui-empty-'));
    const other = await start(empty);
    try {
      const res = await fetch(`${other.base}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    } finally {
      other.server.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
