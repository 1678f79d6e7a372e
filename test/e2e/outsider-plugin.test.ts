import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// A plugin written from spec/protocol.md alone, in plain Node without plugin-kit
// (test/fixtures/plugins/outsider): everything an outsider's plugin can do works end to end
// through the REST API.
describe('an outsider\'s plugin (spec only, no kit)', () => {
  let s: PluginServer;
  let conf: any;
  const pids = new Set<number>();
  beforeAll(async () => {
    s = await startPluginServer(await pluginsDir(['outsider']));
    conf = (await s.plugins()).find((p) => p.modulePath === 'github.com/outsider/flow-hook');
  });
  afterAll(async () => {
    const p = (await s.processes()).outsider;
    if (p?.pid) pids.add(p.pid);
    await s.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
  const post = (body: string, headers: Record<string, string> = {}) => fetch(hookUrl(s, conf, 'hook'), { method: 'POST', body, headers });

  it('is listed with its info and the five Gotify capabilities', () => {
    expect(conf).toMatchObject({
      name: 'outsider hook',
      version: '0.1.0',
      author: 'an outsider',
      license: 'MIT',
      enabled: false,
      status: 'running',
      capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker'],
    });
  });

  it('serves its default config, refuses an invalid one with its reason, stores a valid one', async () => {
    const def = await s.api('GET', `/plugin/${conf.id}/config`, { auth: s.adminAuth });
    expect(def.text).toContain('prefix: "[hook]"');
    const bad = await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'prefix: ""\n' });
    expect(bad.status).toBe(400);
    expect(bad.body.errorDescription).toBe('prefix must not be empty');
    const good = await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'prefix: "[ci]"\nsecret: open-sesame-42\n' });
    expect(good.status).toBe(200);
    expect((await s.api('GET', `/plugin/${conf.id}/config`, { auth: s.adminAuth })).text).toBe('prefix: "[ci]"\nsecret: open-sesame-42\n');
  });

  it('shows its display with the webhook URL as the browser sees it', async () => {
    const r = await s.api('GET', `/plugin/${conf.id}/display`, { auth: s.adminAuth, headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'push.example.com' } });
    expect(r.status).toBe(200);
    expect(r.body).toBe(`Send a POST with a text body to <https://push.example.com/plugin/${conf.id}/custom/${conf.token}/hook>; it becomes a message prefixed with \`[ci]\`.`);
  });

  it('turns webhook calls into messages of its own application once enabled, with storage', async () => {
    expect((await post('too early')).status).toBe(400);
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await post('no secret')).status).toBe(401);
    const client = await s.createClient();
    const stream = await s.openStream(client.token);
    const res = await post('build 17 passed', { 'x-secret': 'open-sesame-42' });
    expect(res.status).toBe(200);
    const { id, count } = (await res.json()) as any;
    expect(count).toBe(1);
    const pushed = await stream.next();
    expect(pushed).toMatchObject({ id, message: '[ci] build 17 passed', title: 'hook' });
    stream.close();
    const app = (await s.api('GET', '/application', { auth: s.adminAuth })).body.find((a: any) => a.id === pushed.appid);
    expect(app).toMatchObject({ name: 'outsider hook', internal: true });
    expect((await post('second', { 'x-secret': 'open-sesame-42' })).status).toBe(200);
    const state = (await (await fetch(hookUrl(s, conf, 'state'))).json()) as any;
    expect(state).toEqual({ last: 'second', keys: ['count'], count: 2 });
  });

  it('comes back after a crash with its config, enabled state and storage', async () => {
    const { pid } = (await s.processes()).outsider;
    pids.add(pid);
    process.kill(pid, 'SIGKILL');
    const state = await waitFor(async () => {
      const r = await fetch(hookUrl(s, conf, 'state'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the restarted outsider');
    expect(state).toEqual({ last: 'second', keys: ['count'], count: 2 });
    const res = await post('after restart', { 'x-secret': 'open-sesame-42' });
    expect(((await res.json()) as any).count).toBe(3);
    // Its secret never shows in what the admin sees of its stderr.
    expect((await s.processes()).outsider.stderr.join('\n')).not.toContain('open-sesame-42');
  });
});
