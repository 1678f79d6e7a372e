/**
 * A fuzz test of the REST API: random and structured bad input against every route, with a
 * fixed seed. Asserts: no 5xx (503 only while the store reports unhealthy), every error is a
 * Gotify JSON error body, no request hangs, server memory stays bounded.
 *
 * Bounded in `npm test` (FUZZ_REQUESTS, default 300). A longer run, e.g. 20,000 requests with
 * another seed: `FUZZ_REQUESTS=20000 FUZZ_SEED=7 npx vitest run test/e2e/fuzz-rest.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginsDir, startPluginServer, type PluginServer } from '../helpers/plugins.js';
import { basic } from '../helpers/server.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 300);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES: [string, string][] = [
  ['GET', '/application'], ['POST', '/application'], ['PUT', '/application/:id'], ['DELETE', '/application/:id'],
  ['POST', '/application/:id/image'], ['DELETE', '/application/:id/image'], ['GET', '/application/:id/message'], ['DELETE', '/application/:id/message'],
  ['GET', '/client'], ['POST', '/client'], ['PUT', '/client/:id'], ['DELETE', '/client/:id'],
  ['GET', '/current/user'], ['POST', '/current/user/password'],
  ['GET', '/health'], ['GET', '/version'], ['GET', '/image/:file'], ['GET', '/static/defaultapp.png'],
  ['GET', '/message'], ['POST', '/message'], ['DELETE', '/message'], ['DELETE', '/message/:id'],
  ['GET', '/plugin'], ['GET', '/plugin/:id/config'], ['POST', '/plugin/:id/config'], ['GET', '/plugin/:id/display'],
  ['GET', '/plugin/:id/configschema'], ['POST', '/plugin/:id/enable'], ['POST', '/plugin/:id/disable'],
  ['GET', '/plugin/admin/processes'], ['GET', '/plugin/permission'], ['PUT', '/plugin/permission'],
  ['GET', '/user'], ['POST', '/user'], ['GET', '/user/:id'], ['POST', '/user/:id'], ['DELETE', '/user/:id'],
  ['ANY', '/plugin/:id/custom/:token/x'], ['GET', '/nope/:id'],
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

let s: PluginServer;
let appToken = '';
let clientToken = '';
beforeAll(async () => {
  s = await startPluginServer(await pluginsDir(['mock']), { 'plugins.bundled': false, 'limits.bodybytes': 256 * 1024 });
  await s.createUser('fuzz', 'fuzzpw');
  appToken = (await s.createApp({ name: 'fuzz' })).token;
  clientToken = (await s.createClient('fuzz')).token;
  for (let i = 0; i < 5; i++) await s.api('POST', '/message', { token: appToken, json: { message: 'seed ' + i } });
});
afterAll(() => s?.close());

describe(`REST fuzz (seed ${SEED}, ${REQUESTS} requests)`, () => {
  it('never answers 5xx, always with a JSON error body, never hangs, and stays within memory', { timeout: 240_000 }, async () => {
    const rnd = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const int = (n: number) => Math.floor(rnd() * n);
    const str = (n: number) => {
      const alphabet = ['a', 'Z', '0', ' ', '%', '/', '\\', '"', "'", '{', '[', '\u0000', '\ud800', '😀', 'é', '\n', '&', '=', '?', '#', ':'];
      let out = '';
      for (let i = 0; i < n; i++) out += pick(alphabet);
      return out;
    };
    // A lone surrogate cannot be percent-encoded as UTF-8: send the invalid bytes it would be.
    const enc = (t: string) => {
      try {
        return encodeURIComponent(t);
      } catch {
        return '%ED%A0%80' + encodeURIComponent(t.replace(/\p{Cs}/gu, ''));
      }
    };
    const idOf = () => pick(['1', '2', '3', '0', '-1', '99999999999999999999', 'abc', '1e3', '%31', str(3), '1.5', '']);
    const value = (depth: number): unknown => {
      switch (int(depth > 3 ? 5 : 8)) {
        case 0: return str(int(20));
        case 1: return int(2) ? int(1e6) : -rnd() * 1e308;
        case 2: return rnd() < 0.5;
        case 3: return null;
        case 4: return 1e400;
        case 5: return Array.from({ length: int(4) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['name', 'message', 'title', 'priority', 'extras', 'pass', 'admin', 'description', 'defaultPriority', 'retention', 'modulePath', 'permission', str(4)]), value(depth + 1)]));
      }
    };
    const body = (): { body?: BodyInit; type?: string } => {
      switch (int(9)) {
        case 0: return {};
        case 1: return { body: JSON.stringify(value(0)), type: 'application/json' };
        case 2: return { body: '{"message":"x","extras":' + '['.repeat(2000 + int(5000)) + ']'.repeat(int(2)), type: 'application/json' };
        case 3: return { body: str(int(200)), type: pick(['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/x-yaml', 'multipart/form-data; boundary=x']) };
        case 4: return { body: new URLSearchParams({ name: str(5), message: str(10), priority: String(int(20) - 5), pass: str(4), admin: pick(['true', 'x']) }).toString(), type: 'application/x-www-form-urlencoded' };
        case 5: return { body: '- '.repeat(3000 + int(3000)) + 'x', type: 'application/x-yaml' };
        case 6: {
          const fd = new FormData();
          fd.append(pick(['file', 'other']), new Blob([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: int(100) }, () => int(256))])]), pick(['a.png', 'b.exe', '../x.jpg', str(5)]));
          return { body: fd };
        }
        case 7: return { body: Buffer.from(Array.from({ length: int(2000) }, () => int(256))), type: 'application/octet-stream' };
        default: return { body: JSON.stringify({ name: str(3) + '\ud800', pass: 'x', message: str(5), extras: { a: { b: value(0) } } }), type: 'application/json' };
      }
    };
    const auth = (): Record<string, string> => {
      switch (int(8)) {
        case 0: return {};
        case 1: return { Authorization: s.adminAuth };
        case 2: return { Authorization: basic('fuzz', 'fuzzpw') };
        case 3: return { 'X-Gotify-Key': appToken };
        case 4: return { 'X-Gotify-Key': clientToken };
        case 5: return { Authorization: 'Basic ' + Buffer.from(str(10)).toString('base64') };
        case 6: return { Authorization: 'Bearer ' + str(5).replace(/[^\x20-\x7e]/g, 'x') };
        default: return { Authorization: basic('fuzz', str(3)) };
      }
    };

    const heapBefore = process.memoryUsage().heapUsed;
    const failures: string[] = [];
    for (let n = 0; n < REQUESTS; n++) {
      const [routeMethod, template] = pick(ROUTES);
      const method = rnd() < 0.8 && routeMethod !== 'ANY' ? routeMethod : pick(METHODS);
      let path = template.replace(':id', enc(idOf())).replace(':file', enc(str(4)) + '.png').replace(':token', enc(str(6)));
      if (rnd() < 0.3) path += '?' + pick(['limit=' + idOf(), 'since=' + idOf(), 'token=' + pick([appToken, clientToken, str(4)]), '%74oken=' + enc(str(3)), enc(str(6))]);
      const b = method === 'GET' || method === 'HEAD' ? {} : body();
      const headers: Record<string, string> = { ...auth() };
      if (b.type) headers['Content-Type'] = b.type;
      const what = `#${n} ${method} ${path}`;
      let res: Response;
      try {
        res = await fetch(s.url + path, { method, headers, body: b.body, signal: AbortSignal.timeout(15_000) });
      } catch (err) {
        // A hang (the timeout) or the server dropping the connection is a failure either way.
        failures.push(`${what}: ${(err as Error).message}`);
        continue;
      }
      const text = await res.text();
      if (res.status >= 500) {
        const healthy = (await fetch(s.url + '/health')).status === 200;
        if (!(res.status === 503 && !healthy)) failures.push(`${what}: ${res.status} ${text.slice(0, 200)}`);
      }
      const relay = /^\/plugin\/[^/]*\/custom\//.test(path);
      if (res.status >= 400 && method !== 'HEAD' && !relay) {
        let parsed: any;
        try {
          parsed = JSON.parse(text);
        } catch {
          failures.push(`${what}: ${res.status} without a JSON body: ${text.slice(0, 100)}`);
          continue;
        }
        if (typeof parsed?.error !== 'string' || parsed.errorCode !== res.status || typeof parsed.errorDescription !== 'string') {
          failures.push(`${what}: ${res.status} body is not a Gotify error: ${text.slice(0, 100)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Still serving, and the heap did not grow with the number of requests.
    expect((await s.api('GET', '/health')).status).toBe(200);
    expect((await s.api('GET', '/current/user', { auth: basic('fuzz', 'fuzzpw') })).status).not.toBeGreaterThanOrEqual(500);
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(grown).toBeLessThan(200 * 1024 * 1024);
  });
});
