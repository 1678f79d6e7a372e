import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir } from '../helpers/plugins.js';
import { startLoggedServer, type LoggedServer } from './hostile-log.js';

// A plugin that writes message/send requests much faster than they can be stored
// (test/fixtures/plugins/hostile-caller /storm): the host serves at most 1024 at once and
// stops reading the plugin once 4096 are waiting, so the backlog sits in the plugin's pipe,
// not in the server's memory; every message is stored exactly once and the API keeps answering.
describe('hostile plugins: request storm', () => {
  let s: LoggedServer;
  let caller: any;
  beforeAll(async () => {
    s = await startLoggedServer(await pluginsDir(['hostile-caller']));
    caller = ((await (await s.api('GET', '/plugin')).json()) as any[])[0];
    expect((await s.api('POST', `/plugin/${caller.id}/enable`)).status).toBe(200);
  });
  afterAll(async () => {
    const [proc] = (await (await s.api('GET', '/plugin/admin/processes')).json()) as any[];
    await s.close();
    expect(alive(proc.pid)).toBe(false);
  });

  it('throttles a plugin with 10,000 requests in flight by reading it slower, and stores each message once', async () => {
    const n = 10_000;
    let done = false;
    const storm = fetch(hookUrl(s.flow, caller, `storm?n=${n}`)).finally(() => (done = true));
    // While the storm runs the API answers (each probe bounded, not timed).
    let probes = 0;
    while (!done) {
      const r = await fetch(`${s.flow.url}/message?limit=5`, { headers: { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') }, signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(200);
      probes++;
    }
    expect(probes).toBeGreaterThan(0);
    const res = await storm;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: n, distinct: n, errors: [] });
    expect(s.lines.some((l) => l.includes('reading its output is paused'))).toBe(true);
    const app = ((await (await s.api('GET', '/application')).json()) as any[]).find((a) => a.name === 'hostile caller');
    const newest = (await (await s.api('GET', `/application/${app.id}/message?limit=1`)).json()) as any;
    expect(newest.messages[0].message).toMatch(/^storm \d+$/);
    // Reading resumed: the plugin is served as usual afterwards.
    expect((await fetch(hookUrl(s.flow, caller, 'ok'))).status).toBe(200);
  });
});
