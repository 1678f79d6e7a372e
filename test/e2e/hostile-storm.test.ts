import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir, waitFor } from '../helpers/plugins.js';
import { startLoggedServer, type LoggedServer } from './hostile-log.js';

// A plugin that writes message/send requests much faster than they can be stored
// (test/fixtures/plugins/hostile-caller /storm): the host serves at most 1024 at once and
// stops reading the plugin once 4096 are waiting, so the backlog sits in the plugin's pipe,
// not in the server's memory; every message is stored exactly once and the API keeps answering.
describe('hostile plugins: request and log storms', () => {
  let s: LoggedServer;
  let caller: any;
  beforeAll(async () => {
    // The storm's webhook answers once all 10,000 messages are stored: how long that takes is the
    // machine's business, so its deadline (15 s by default) is only a bound against a hang.
    s = await startLoggedServer(await pluginsDir(['hostile-caller', 'hostile-flood']), { 'plugins.webhooktimeoutms': 300_000 });
    const list = (await (await s.api('GET', '/plugin')).json()) as any[];
    caller = list.find((p) => p.modulePath === 'github.com/flow/test/hostile-caller');
    flood = list.find((p) => p.modulePath === 'github.com/flow/test/hostile-flood');
    for (const conf of [caller, flood]) expect((await s.api('POST', `/plugin/${conf.id}/enable`)).status).toBe(200);
  });
  afterAll(async () => {
    const procs = (await (await s.api('GET', '/plugin/admin/processes')).json()) as any[];
    await s.close();
    for (const proc of procs) expect(alive(proc.pid)).toBe(false);
  });
  let flood: any;

  // How long the host takes to work through 40,000 lines depends on the machine: the test bounds
  // what was logged by the budget's own rule over the time measured here, not by a guess of speed.
  it('rate-limits what a plugin adds to the server log, counts what it dropped, and cuts huge lines', { timeout: 120_000 }, async () => {
    const n = 20_000;
    s.lines.length = 0;
    const start = Date.now();
    expect((await fetch(hookUrl(s.flow, flood, `log-flood?n=${n}`))).status).toBe(200);
    const logged = () => s.lines.map((l) => JSON.parse(l) as any).filter((e) => e.plugin === 'hostile-flood');
    // The two huge log/write lines: sent again until both fit in the budget, which refills at
    // 200 lines/s once the host has worked through the flood (how long that takes is load-bound).
    const isHuge = (e: any) => typeof e.msg === 'string' && e.msg.startsWith('huge huge');
    const entries = await waitFor(async () => {
      expect((await fetch(hookUrl(s.flow, flood, 'log-huge'))).status).toBe(200);
      const all = logged();
      return all.some(isHuge) && all.some((e) => e.msg === 'huge fields') && all;
    }, 'the huge log lines', 90_000);
    const seconds = (Date.now() - start) / 1000;
    const stderrLines = entries.filter((e) => e.msg === 'stderr flood line').length;
    const writeLines = entries.filter((e) => typeof e.msg === 'string' && e.msg.startsWith('log/write flood')).length;
    // Each channel: at most a burst of 1000 plus 200 per second (the server shares this process's
    // clock); the 20,000 sent each way take a few seconds, so most of them are dropped.
    const budget = Math.floor(1000 + 200 * seconds);
    expect(stderrLines).toBeGreaterThan(0);
    expect(stderrLines).toBeLessThanOrEqual(Math.min(budget, n / 2));
    expect(writeLines).toBeGreaterThan(0);
    expect(writeLines).toBeLessThanOrEqual(Math.min(budget, n / 2));
    // The loss is visible: the next line that fits says how many were dropped. The huge lines came
    // after the whole log/write flood on the same channel, so every flood line it lost is counted.
    const dropped = entries.filter((e) => e.msg === 'plugin log lines dropped: over the rate limit of the server log');
    expect(dropped.reduce((sum, e) => sum + e.dropped, 0)).toBeGreaterThanOrEqual(n - writeLines);
    // The two huge log/write lines made it, cut to size.
    const huge = entries.find(isHuge);
    expect(huge.msg.length).toBeLessThan(2100);
    expect(huge.msg).toContain('[1000000 characters]');
    expect(entries.find((e) => e.msg === 'huge fields').fields).toBe('[1000011 characters of fields dropped]');
    expect(JSON.stringify(entries).length).toBeLessThan(2_000_000);
    // The admin endpoint still shows the latest stderr lines.
    const procs = (await (await s.api('GET', '/plugin/admin/processes')).json()) as any[];
    expect(procs.find((p) => p.name === 'hostile-flood').stderr.at(-1)).toContain('stderr flood line');
  });

  it('throttles a plugin with 10,000 requests in flight by reading it slower, and stores each message once', { timeout: 300_000 }, async () => {
    const n = 10_000;
    let done = false;
    const storm = fetch(hookUrl(s.flow, caller, `storm?n=${n}`)).finally(() => (done = true));
    // While the storm runs the API answers: probes come back one after another before the storm
    // is over (an API stalled behind the storm would answer at most the one probe waiting at its
    // end). Counted by order of events, not by a deadline a busy machine could miss.
    let answeredDuringStorm = 0;
    while (!done) {
      const r = await fetch(`${s.flow.url}/message?limit=5`, { headers: { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') }, signal: AbortSignal.timeout(60_000) });
      expect(r.status).toBe(200);
      if (!done) answeredDuringStorm++;
    }
    expect(answeredDuringStorm).toBeGreaterThanOrEqual(2);
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

  it('stops the server in the middle of a storm, with the plugin\'s output paused, and leaves nothing behind', async () => {
    const own = await startLoggedServer(await pluginsDir(['hostile-caller']), { 'plugins.stoptimeoutms': 300 });
    const conf = ((await (await own.api('GET', '/plugin')).json()) as any[])[0];
    expect((await own.api('POST', `/plugin/${conf.id}/enable`)).status).toBe(200);
    const [{ pid }] = (await (await own.api('GET', '/plugin/admin/processes')).json()) as any[];
    const storm = fetch(hookUrl(own.flow, conf, 'storm?n=200000')).catch(() => undefined);
    await waitFor(() => own.lines.some((l) => l.includes('reading its output is paused')), 'the host to pause reading');
    await own.close();
    await storm;
    expect(alive(pid)).toBe(false);
    // An orderly stop: the message/send calls cut short are not errors of the server.
    expect(own.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});
