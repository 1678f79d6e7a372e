/**
 * Replicas started with different plugin sets (issue 19): r1 and r2 have the ticker, r3 has none.
 * r3 never takes the ticker's instances — not at start, not when their owner dies — yet a webhook,
 * display or config call that reaches r3 is relayed to the replica that runs the instance; once no
 * live replica runs it, r3 answers those calls 503 (the instance exists, it will run again), while
 * an id that exists nowhere stays 404.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startReplicas, type ReplicaSet } from './replicas.js';
import { ADMIN, holderOf, hook, ownerOf, tickerConf, tickerDir } from './plugin-ticker.js';

describe('replicas with different plugin sets', () => {
  let c: ReplicaSet;
  const dirs: string[] = [];
  let conf: { id: number; token: string };

  beforeAll(async () => {
    dirs.push(await tickerDir(true), await tickerDir(false));
    c = await startReplicas(3, (i) => ({ env: { FLOW_PLUGINSDIR: dirs[i === 2 ? 1 : 0]! } }));
    conf = await tickerConf(c.replicas[0]!);
  });
  afterAll(async () => {
    await c?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('the replica without the plugin relays to the owner and never takes the instance, even when the owner dies', async () => {
    const [r1, r2, r3] = c.replicas as [any, any, any];
    const owner = await ownerOf(c, conf.id);
    expect(owner).not.toBe(r3);
    expect((await r3.api('POST', `/plugin/${conf.id}/enable`, { auth: ADMIN })).status).toBe(200);
    const first = await hook(r3, conf, 'POST', 'from r3');
    expect(first.status, first.text).toBe(200);
    expect((await r3.api('GET', `/plugin/${conf.id}/display`, { auth: ADMIN })).status).toBe(200);
    // Config and schema need the plugin: r3 relays them, and the owner's answers come back (the ticker is no configurer).
    const config = await r3.api('GET', `/plugin/${conf.id}/config`, { auth: ADMIN });
    expect(config.status, config.text).toBe(400);
    expect(config.body.errorDescription).toBe('plugin does not support configurer');
    const schema = await r3.api('GET', `/plugin/${conf.id}/configschema`, { auth: ADMIN });
    expect(schema.status, schema.text).toBe(404);
    expect(schema.body.errorDescription).toBe('the plugin declares no config schema');
    // The replica registry says who can run it: r1 and r2 publish the ticker, r3 nothing.
    const published = await waitFor(async () => {
      const rows = await c.sql<{ name: string; plugin_modules: string[] }>('SELECT name, plugin_modules FROM replicas ORDER BY name');
      return rows.length === 3 && rows.filter((r) => r.plugin_modules.length > 0).length === 2 && rows;
    }, 'r1 and r2 publishing their plugins');
    expect(published.find((r) => r.name === 'r3')!.plugin_modules).toEqual([]);

    await owner.kill();
    const next = await ownerOf(c, conf.id, owner);
    expect(next).toBe(owner === r1 ? r2 : r1);
    const answered = await waitFor(async () => {
      const res = await hook(r3, conf);
      return res.status === 200 && res.body.pid !== first.body.pid && res;
    }, 'r3 relaying to the new owner', 60_000);
    expect(answered.body.note).toBe('from r3');
    expect(await holderOf(c, conf.id)).toBe(await next.id());

    // With both ticker replicas gone, r3 still never takes it: the call is refused, not run —
    // 503 (the instance exists and runs again once a replica with the plugin is back), not 404.
    await next.kill();
    await waitFor(async () => (await holderOf(c, conf.id)) === undefined, 'the lease to expire', 60_000);
    const unavailable = { error: 'Service Unavailable', errorCode: 503 };
    const orphan = await hook(r3, conf);
    expect(orphan.status, orphan.text).toBe(503);
    expect(orphan.body).toMatchObject(unavailable);
    for (const [method, sub] of [['GET', 'display'], ['GET', 'config'], ['GET', 'configschema'], ['POST', 'disable'], ['POST', 'config']] as const) {
      const res = await r3.api(method, `/plugin/${conf.id}/${sub}`, { auth: ADMIN, ...(method === 'POST' && sub === 'config' ? { body: 'a: 1' } : {}) });
      expect(res.status, `${method} ${sub}: ${res.text}`).toBe(503);
      expect(res.body).toMatchObject({ ...unavailable, errorDescription: expect.stringContaining('no Flow replica runs this plugin instance now') });
    }
    expect(await holderOf(c, conf.id)).toBeUndefined();
    // An id that exists nowhere: 404, as on one server.
    const nowhere = conf.id + 1000;
    expect((await r3.api('GET', `/plugin/${nowhere}/display`, { auth: ADMIN })).status).toBe(404);
    expect((await r3.api('GET', `/plugin/${nowhere}/configschema`, { auth: ADMIN })).status).toBe(404);
    expect((await hook(r3, { id: nowhere, token: conf.token })).status).toBe(404);
  });
});
