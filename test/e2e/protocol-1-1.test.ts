import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// Protocol 1.1 on the real server (spec §7.6, §7.12, §14): host-parsed config, the config
// schema and its REST side, the atomic kv operations and kv/list pages, beside a 1.0 plugin.
describe('protocol 1.1', () => {
  let s: PluginServer;
  let schema: any;
  let mock: any;

  const yamlPost = (id: number, body: string) => s.api('POST', `/plugin/${id}/config`, { auth: s.adminAuth, body, headers: { 'Content-Type': 'application/x-yaml' } });
  const sets = async (): Promise<any[]> => (await (await fetch(hookUrl(s, schema, 'sets'))).json()) as any[];
  const call = async (conf: any, method: string, params: unknown): Promise<any> =>
    (await (await fetch(hookUrl(s, conf, 'call'), { method: 'POST', body: JSON.stringify({ method, params }) })).json()) as any;

  beforeAll(async () => {
    const dir = await pluginsDir(['schema11', 'schema11-broken', 'mock']);
    s = await startPluginServer(dir, { 'plugins.storagequotabytes': 64 * 1024 });
    const list = await s.plugins();
    schema = list.find((p) => p.modulePath === 'github.com/flow/test/schema11');
    mock = list.find((p) => p.modulePath === 'github.com/flow/test/mock');
    for (const conf of [schema, mock]) expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
  });
  afterAll(() => s?.close());

  it('refuses to start a plugin whose config schema is invalid, naming the schema error', async () => {
    const processes = await s.processes();
    expect(processes['schema11-broken']).toMatchObject({ status: 'failed', instances: 0 });
    expect(processes['schema11-broken'].lastError ?? processes['schema11-broken'].statusReason).toMatch(/invalid configSchema/);
    expect(processes.schema11).toMatchObject({ status: 'running' });
  });

  it('serves the schema at GET /plugin/:id/configschema, and 404 for a plugin without one', async () => {
    const got = await s.api('GET', `/plugin/${schema.id}/configschema`, { auth: s.adminAuth });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toMatch(/^application\/json/);
    expect(got.body).toMatchObject({ type: 'object', additionalProperties: false });
    const none = await s.api('GET', `/plugin/${mock.id}/configschema`, { auth: s.adminAuth });
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ error: 'Not Found', errorCode: 404 });
  });

  it('renders a JSON-only default config as YAML and sends the plugin its JSON form', async () => {
    const text = (await s.api('GET', `/plugin/${schema.id}/config`, { auth: s.adminAuth })).text;
    expect(text).toBe('name: relay\nfeeds:\n  - url: https://example.com/feed\n    every: 5\n');
    const first = (await sets())[0];
    expect(first).toEqual({ config: text, value: { name: 'relay', feeds: [{ url: 'https://example.com/feed', every: 5 }] } });
  });

  it('parses YAML 1.2 core before the plugin and passes the value along', async () => {
    const r = await yamlPost(schema.id, '# comment\r\nname: yes\r\nfeeds:\r\n  - url: http://a.example/x\r\n    every: 0o17\r\n');
    expect(r.status).toBe(200);
    expect((await sets()).at(-1).value).toEqual({ name: 'yes', feeds: [{ url: 'http://a.example/x', every: 15 }] });
  });

  it('returns every schema violation at once with its JSON Pointer, and the plugin never sees it', async () => {
    const before = (await sets()).length;
    const r = await yamlPost(schema.id, 'name: ""\nfeeds:\n  - url: ftp://x\n    every: 0\n  - every: two\ncolour: red\n');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'Bad Request', errorCode: 400 });
    expect(r.body.errorDescription).toMatch(/does not match the plugin's schema/);
    const issues = r.body.issues as { path: string; message: string }[];
    expect(issues.map((i) => i.path).sort()).toEqual(['/colour', '/feeds/0/every', '/feeds/0/url', '/feeds/1/every', '/feeds/1/url', '/name'].sort());
    for (const issue of issues) expect(issue.message).toEqual(expect.any(String));
    expect(issues.find((i) => i.path === '/feeds/1/url')!.message).toBe('is required');
    expect((await sets()).length).toBe(before);
    // The stored text did not change either.
    expect((await s.api('GET', `/plugin/${schema.id}/config`, { auth: s.adminAuth })).text).toMatch(/every: 0o17/);
  });

  it('refuses YAML that does not parse, or is not a mapping, before the plugin sees it', async () => {
    const before = (await sets()).length;
    for (const [body, reason] of [
      ['name: [unclosed', /invalid YAML/],
      ['- a\n- b\n', /must be a YAML mapping.*not a list/],
      ['just text', /must be a YAML mapping.*not a single string/],
      ['name: a\nname: b\n', /invalid YAML: Map keys must be unique/],
      ['name: !custom x\n', /invalid YAML: Unresolved tag/],
      ['name: .nan\n', /no JSON form/],
    ] as const) {
      const r = await yamlPost(schema.id, body);
      expect(r.status, body).toBe(400);
      expect(r.body.errorDescription, body).toMatch(reason);
      expect(r.body).not.toHaveProperty('issues');
    }
    // The 1.0 mock gets the same host-side refusal (it would have refused it itself).
    expect((await yamlPost(mock.id, '- a\n')).status).toBe(400);
    expect((await sets()).length).toBe(before);
  });

  it("shows the plugin's own refusal as before", async () => {
    const r = await yamlPost(schema.id, 'name: refuse\n');
    expect(r.status).toBe(400);
    expect(r.body.errorDescription).toBe('the name "refuse" is refused');
  });

  it('counts 64 concurrent kv/increment calls exactly and swaps with kv/compareAndSet atomically', async () => {
    const results = await Promise.all(Array.from({ length: 64 }, () => call(schema, 'kv/increment', { key: 'hits' })));
    expect(results.map((r) => r.result.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect((await call(schema, 'kv/get', { key: 'hits' })).result).toEqual({ value: '64' });
    expect((await call(schema, 'kv/increment', { key: 'hits', delta: -4 })).result).toEqual({ value: 60 });

    // 16 racing "take the lock" calls: exactly one wins, the others see the winner's value.
    const racers = await Promise.all(Array.from({ length: 16 }, (_, n) => call(schema, 'kv/compareAndSet', { key: 'lock', expected: null, value: `w${n}` })));
    const winners = racers.filter((r) => r.result.swapped);
    expect(winners).toHaveLength(1);
    for (const r of racers) expect(r.result.value).toBe(winners[0].result.value);
    expect((await call(schema, 'kv/compareAndSet', { key: 'lock', expected: winners[0].result.value, value: null })).result).toEqual({ swapped: true, value: null });
    expect((await call(schema, 'kv/get', { key: 'lock' })).result).toEqual({ value: null });
  });

  it('refuses kv/increment of a non-integer and past 2^53-1 with InvalidParams, changing nothing', async () => {
    await call(schema, 'kv/set', { key: 'word', value: 'abc' });
    const bad = await call(schema, 'kv/increment', { key: 'word' });
    expect(bad.error).toMatchObject({ code: -32602, data: { issues: [{ path: ['key'] }] } });
    await call(schema, 'kv/set', { key: 'big', value: String(Number.MAX_SAFE_INTEGER) });
    expect((await call(schema, 'kv/increment', { key: 'big' })).error).toMatchObject({ code: -32602 });
    expect((await call(schema, 'kv/get', { key: 'big' })).result.value).toBe(String(Number.MAX_SAFE_INTEGER));
  });

  it('pages kv/list with cursors, every key once, in order', async () => {
    for (let n = 0; n < 25; n++) await call(schema, 'kv/set', { key: `p:${String(n).padStart(2, '0')}`, value: 'x' });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = (await call(schema, 'kv/list', { prefix: 'p:', limit: 10, ...(cursor ? { cursor } : {}) })).result;
      expect(page.keys.length).toBeLessThanOrEqual(10);
      seen.push(...page.keys);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, n) => `p:${String(n).padStart(2, '0')}`));
    expect((await call(schema, 'kv/list', { limit: 1001 })).error).toMatchObject({ code: -32602 });
  });

  it('keeps 1.1 methods from a 1.0 plugin, lists all its keys at once, and still configures it', async () => {
    expect((await call(mock, 'kv/increment', { instanceId: String(mock.id), key: 'n' })).error).toMatchObject({ code: -32601 });
    // A 1.0 plugin gets all keys in one answer, no cursor.
    const listed = await call(mock, 'kv/list', { instanceId: String(mock.id) });
    expect(listed.result).not.toHaveProperty('nextCursor');
    expect((await yamlPost(mock.id, 'testkey: v\n')).status).toBe(200);
    await waitFor(async () => ((await (await fetch(hookUrl(s, mock, 'config'))).json()) as any).config.testkey === 'v', 'the mock to take the config');
  });
});
