import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { alive, hookUrl, pluginsDir, startPluginServer, type PluginServer } from '../helpers/plugins.js';

// Plugins that answer with lies (test/fixtures/plugins/hostile-liar, hostile-caller): every
// bad answer costs only the request it belongs to, with a clear status, and the plugin,
// the server and other requests carry on.
describe('hostile plugins: liars and abusive callers', () => {
  let s: PluginServer;
  let liar: any;
  let caller: any;
  let pids: number[];
  beforeAll(async () => {
    // calltimeoutms bounds every call but webhooks (display, config, instances): the silent
    // validation's 504 waits for it, and every other call must be answered within it even on a
    // machine whose cores are busy, so it is the protocol's own default for config calls, 5 s.
    s = await startPluginServer(await pluginsDir(['hostile-liar', 'hostile-caller']), { 'plugins.webhooktimeoutms': 10_000, 'plugins.calltimeoutms': 5000, 'plugins.storagequotabytes': 1_000_000 });
    const list = await s.plugins();
    liar = list.find((p) => p.modulePath === 'github.com/flow/test/hostile-liar');
    caller = list.find((p) => p.modulePath === 'github.com/flow/test/hostile-caller');
    for (const conf of [liar, caller]) expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    pids = Object.values(await s.processes()).map((p: any) => p.pid);
  });
  afterAll(async () => {
    await s.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  const hook = (conf: any, sub: string) => fetch(hookUrl(s, conf, sub));
  const stillServing = async () => {
    const ok = await hook(liar, 'ok');
    expect(ok.status).toBe(200);
    const procs = await s.processes();
    expect(procs['hostile-liar']).toMatchObject({ status: 'running', restarts: 0 });
    expect(procs['hostile-caller']).toMatchObject({ status: 'running', restarts: 0 });
  };

  it.each(['status42', 'badbase64', 'headers-nonstring', 'no-status', 'null-result'])('answers 502 for an invalid webhook result (%s) and keeps the plugin', async (lie) => {
    const res = await hook(liar, lie);
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.errorDescription).toMatch(/invalid result/);
    await stillServing();
  });

  it('fails a webhook whose answer is over the frame limit at once, without buffering it, and keeps the plugin', async () => {
    const before = process.memoryUsage().rss;
    const res = await hook(liar, 'huge');
    // 502 as soon as the frame header is read, not 504 at the deadline.
    expect(res.status).toBe(502);
    expect(((await res.json()) as any).errorDescription).toMatch(/^the plugin's answer was \d+ bytes, over the 8388608-byte frame limit/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    await stillServing();
  });

  it('answers 502 for a display result of the wrong shape', async () => {
    const res = await s.api('GET', `/plugin/${liar.id}/display`, { auth: s.adminAuth });
    expect(res.status).toBe(502);
    expect(res.body.errorDescription).toMatch(/invalid result: markdown/);
    await stillServing();
  });

  it.each([
    ['garbage', 502],
    ['silence', 504],
  ])('keeps the old config when the plugin answers its validation with %s', async (lie, status) => {
    const config = (auth = s.adminAuth) => s.api('GET', `/plugin/${liar.id}/config`, { auth });
    const before = (await config()).text;
    const res = await s.api('POST', `/plugin/${liar.id}/config`, { auth: s.adminAuth, body: `lie: ${lie}\n` });
    expect(res.status).toBe(status);
    expect((await config()).text).toBe(before);
    // The instance's lock is free again: the next change goes through.
    expect((await s.api('POST', `/plugin/${liar.id}/config`, { auth: s.adminAuth, body: 'lie: none\n' })).status).toBe(200);
    await stillServing();
  });

  it('sets the framing headers itself: hop-by-hop and content-length from the plugin are dropped', async () => {
    const res = await hook(liar, 'hop');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('short body');
    expect(res.headers.get('content-length')).toBe('10');
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(res.headers.get('upgrade')).toBeNull();
    expect(res.headers.get('keep-alive')).not.toContain('999');
    expect(res.headers.get('x-kept')).toBe('yes');
  });

  // Raw HTTP, so nothing the client library normalises hides a split response.
  const rawGet = (url: string) =>
    new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
      request(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, head: res.rawHeaders.join('\n'), body }));
      })
        .on('error', reject)
        .end();
    });

  it.each(['crlf-value', 'crlf-name', 'bad-name'])('never lets CR/LF or invalid header names reach the client (%s)', async (lie) => {
    const res = await rawGet(hookUrl(s, liar, lie));
    expect(res.head.toLowerCase()).not.toContain('pwned');
    expect(res.head.toLowerCase()).not.toContain('set-cookie');
    expect(res.status).toBe(502);
    await stillServing();
  });

  it.each(['bad-json', 'batch', 'not-rpc', 'charset', 'half-frame'])('answers a well-framed but invalid frame (%s) and keeps the plugin running, as spec 2.5 says', async (kind) => {
    const res = await hook(liar, kind);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^still here: \d+$/);
    await stillServing();
  });

  it.each(['status100', 'status101'])('answers 502 for an informational status as the final one (%s): no client is left waiting', async (lie) => {
    const res = await rawGet(hookUrl(s, liar, lie));
    expect(res.status).toBe(502);
    expect(res.body).toContain('informational status');
    await stillServing();
  });

  it.each([
    ['status204', 204],
    ['status304', 304],
  ])('sends no body with %s, whatever the plugin put in it', async (lie, status) => {
    const res = await rawGet(hookUrl(s, liar, lie));
    expect(res.status).toBe(status);
    expect(res.body).toBe('');
    await stillServing();
  });

  it('uses the first of two answers and ignores answers to ids it never sent', async () => {
    const res = await hook(liar, 'twice');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('first');
    await stillServing();
  });

  it('takes the error of an answer that carries both result and error (the safe side: nothing is relayed as success)', async () => {
    const res = await hook(liar, 'both');
    expect(res.status).toBe(500);
    expect(((await res.json()) as any).errorDescription).toBe('and an error');
    await stillServing();
  });

  it('answers FrameTooLarge to a 100 MB request, without buffering it, and keeps serving the plugin', async () => {
    const before = process.memoryUsage().rss;
    const res = await hook(caller, 'bigframe?mb=100');
    expect(res.status).toBe(200);
    const { answer, after } = (await res.json()) as any;
    expect(answer.id).toBe('big-1');
    expect(answer.error.code).toBe(1010);
    expect(answer.error.data).toEqual({ limitBytes: 8 * 1024 * 1024, frameBytes: 100 * 1024 * 1024 });
    expect(after.result).toEqual({ value: null });
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    await stillServing();
  });

  it('ignores unknown notifications, unsolicited responses and bad log/write, and treats request ids as opaque', async () => {
    const res = await hook(caller, 'noise');
    expect(res.status).toBe(200);
    const { weird, noParams, after } = (await res.json()) as any;
    expect(weird.result).toEqual({});
    expect(noParams.error.code).toBe(-32602);
    expect(after.result).toEqual({ value: 'v' });
    await stillServing();
  });

  it('lets exactly as many racing kv/set through as fit the quota, and refuses the rest with QuotaExceeded', async () => {
    const res = await hook(caller, 'quota-race?n=40&size=100000');
    expect(res.status).toBe(200);
    const r = (await res.json()) as any;
    // Each entry is 100,000 bytes of value + 4 of key: 9 fit in 1,000,000, the 10th would not.
    expect(r).toMatchObject({ ok: 9, refused: 31, keys: 9, blob: 1008 });
    // usedBytes: the nine entries plus what earlier tests stored; one more entry would not fit.
    expect(r.data.limitBytes).toBe(1_000_000);
    expect(r.data.usedBytes).toBeGreaterThanOrEqual(900_036);
    expect(r.data.usedBytes + 100_004).toBeGreaterThan(1_000_000);
    await stillServing();
  });

  it('refuses a message/send whose extras nest 100,000 levels deep, stores nothing, and survives it', async () => {
    const res = await hook(caller, 'deep?depth=100000');
    expect(res.status).toBe(200);
    const { answer } = (await res.json()) as any;
    expect(answer.id).toBe('deep-100000');
    expect(answer.result).toBeUndefined();
    expect([1000, -32602]).toContain(answer.error.code);
    expect((await s.api('GET', '/health')).status).toBe(200);
    const messages = (await s.api('GET', '/message?limit=200', { auth: s.adminAuth })).body.messages as any[];
    expect(messages.filter((m) => m.message === 'deep')).toEqual([]);
    await stillServing();
  });

  it('stores every message of a storm of message/send calls exactly once and keeps the API responsive', async () => {
    const n = 3000;
    const storm = hook(caller, `storm?n=${n}`);
    // While the storm runs, the REST API answers (a bound, not a speed assertion).
    const health = await s.api('GET', '/health');
    expect(health.status).toBe(200);
    const res = await storm;
    expect(res.status).toBe(200);
    const result = (await res.json()) as any;
    expect(result).toEqual({ ok: n, distinct: n, errors: [] });
    const app = (await s.api('GET', '/application', { auth: s.adminAuth })).body.find((a: any) => a.name === 'hostile caller');
    const msgs = await s.api('GET', `/application/${app.id}/message?limit=200`, { auth: s.adminAuth });
    expect(msgs.status).toBe(200);
    expect(msgs.body.paging.size).toBe(200);
    expect(msgs.body.messages[0].message).toMatch(/^storm \d+$/);
    await stillServing();
  });
});
