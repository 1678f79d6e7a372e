import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir, waitFor } from '../helpers/plugins.js';
import { startLoggedServer, type LoggedServer } from './hostile-log.js';

// A plugin that tries to leak secrets (test/fixtures/plugins/hostile-leaker): it gets none of
// the server's environment, and what it writes about its webhook token or its secret config
// values never shows in the admin endpoint's stderr lines or in the server log (captured
// here at trace level, everything the server would write).
describe('hostile plugins: leaks', () => {
  const SERVER_SECRET = 'flow-server-secret-0123456789';
  const CLOUD_SECRET = 'cloud-secret-abcdefghij';
  const API_KEY = 'sk-live-9f8e7d6c5b4a';
  let s: LoggedServer;
  let lines: string[];
  let conf: any;
  let pid: number;
  const api = (method: string, p: string, body?: string) => s.api(method, p, body);

  beforeAll(async () => {
    process.env.FLOW_TEST_SECRET = SERVER_SECRET;
    process.env.AWS_SECRET_ACCESS_KEY = CLOUD_SECRET;
    s = await startLoggedServer(await pluginsDir(['hostile-leaker']));
    lines = s.lines;
    conf = ((await (await api('GET', '/plugin')).json()) as any[])[0];
    expect((await api('POST', `/plugin/${conf.id}/config`, `apikey: ${API_KEY}\nname: mine\n`)).status).toBe(200);
    expect((await api('POST', `/plugin/${conf.id}/enable`)).status).toBe(200);
  });
  afterAll(async () => {
    delete process.env.FLOW_TEST_SECRET;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await s.close();
    expect(alive(pid)).toBe(false);
  });

  it('starts the plugin without the server\'s environment', async () => {
    const res = await fetch(hookUrl(s.flow, conf, 'env'));
    expect(res.status).toBe(200);
    const { env } = (await res.json()) as any;
    expect(Object.keys(env).filter((k) => k.startsWith('FLOW_'))).toEqual(['FLOW_PLUGIN_PROTOCOL', 'FLOW_PLUGIN_RUN']);
    expect(JSON.stringify(env)).not.toContain(SERVER_SECRET);
    expect(JSON.stringify(env)).not.toContain(CLOUD_SECRET);
  });

  it('never shows the webhook token or a secret config value in the stderr lines or the server log', async () => {
    expect((await fetch(hookUrl(s.flow, conf, 'leak?token=' + conf.token))).status).toBe(200);
    const procs = await waitFor(async () => {
      const p = ((await (await api('GET', '/plugin/admin/processes')).json()) as any[])[0];
      return p.stderr.some((l: string) => l.startsWith('url-encoded:')) && p;
    }, 'the leak attempts on stderr');
    pid = procs.pid;
    await waitFor(() => lines.some((l) => l.includes('called at')), 'the log/write line');
    const stderr = procs.stderr.join('\n');
    const log = lines.join('');
    // The attempts did reach both places, masked.
    expect(stderr).toContain('my webhook: /plugin/');
    expect(log).toContain('"msg":"called at /plugin/');
    expect(log).toContain('"path":"/plugin/');
    for (const [where, text] of [['stderr', stderr], ['log', log]] as const) {
      expect(text, where).not.toContain(conf.token);
      expect(text, where).not.toContain(API_KEY);
      expect(text, where).not.toContain(SERVER_SECRET);
      expect(text, where).not.toContain(CLOUD_SECRET);
    }
  });

  it('masks them in the host\'s own log lines that quote the plugin, e.g. an enable refused at start', async () => {
    expect((await api('POST', `/plugin/${conf.id}/config`, `apikey: ${API_KEY}\nname: refuse\n`)).status).toBe(200);
    lines.length = 0;
    // The stored state says enabled: the next start re-enables, the plugin refuses quoting its secrets.
    await s.restart();
    const refused = lines.find((l) => l.includes('refused to enable'));
    expect(refused).toContain('refusing: apikey: [masked]');
    const log = lines.join('');
    expect(log).not.toContain(conf.token);
    expect(log).not.toContain(API_KEY);
    pid = ((await (await api('GET', '/plugin/admin/processes')).json()) as any[])[0].pid;
  });
});
