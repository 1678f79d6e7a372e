/**
 * Users and plugin permissions across replicas (issue 19): r1 has no plugin, r2 and r3 have the
 * ticker. A user created on r1 gets its ticker instance from r2/r3 at once (no restart: they
 * hear of the user through the change notifications). A permission narrowed on the replica that
 * does not run the user's instance takes effect on the one that does: the instance is disabled
 * in its process (its ticks stop), and that replica's view follows the rule.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startReplicas, type Replica, type ReplicaSet } from './replicas.js';
import { ADMIN, ownerOf, TICKER, tickerConf, tickerDir } from './plugin-ticker.js';

const BOB = basic('bob', 'bob-password');

/** Bob's tick messages (ids), read on `r`. */
async function bobTicks(r: Replica): Promise<number[]> {
  const res = await r.api('GET', '/message?limit=200', { auth: BOB });
  if (res.status !== 200) throw new Error(`GET /message as bob on ${r.name}: ${res.status} ${res.text}`);
  return (res.body.messages as any[]).filter((m) => /^tick \d+ \d+$/.test(m.message)).map((m) => m.id as number);
}

describe('users and plugin permissions across replicas', () => {
  let c: ReplicaSet;
  const dirs: string[] = [];

  beforeAll(async () => {
    dirs.push(await tickerDir(false), await tickerDir(true));
    c = await startReplicas(3, (i) => ({ env: { FLOW_PLUGINSDIR: dirs[i === 0 ? 0 : 1]! } }));
  });
  afterAll(async () => {
    await c?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a user created on a replica without the plugin gets its instance on the replicas with it; a narrowed permission stops it where it runs', async () => {
    const [r1, r2, r3] = c.replicas as [Replica, Replica, Replica];
    const adminConf = await tickerConf(r2);
    const created = await r1.api('POST', '/user', { auth: ADMIN, json: { name: 'bob', pass: 'bob-password', admin: false } });
    expect(created.status, created.text).toBe(200);

    // No restart: r2/r3 create bob's conf and one of them runs his instance.
    const bobConf = await waitFor(async () => {
      const res = await r2.api('GET', '/plugin', { auth: BOB });
      return res.status === 200 && (res.body as any[]).find((p) => p.modulePath === TICKER);
    }, "bob's ticker instance, created by a replica that has the plugin", 60_000);
    const owner = await ownerOf(c, bobConf.id);
    expect([r2, r3]).toContain(owner);
    const other = owner === r2 ? r3 : r2;
    expect((await c.sql('SELECT count(*)::int AS n FROM plugin_confs WHERE user_id = $1', [created.body.id]))[0].n).toBe(1);

    // Bob and the admin enable theirs (through the replica that does not run bob's: relayed).
    expect((await other.api('POST', `/plugin/${bobConf.id}/enable`, { auth: BOB })).status).toBe(200);
    expect((await other.api('POST', `/plugin/${adminConf.id}/enable`, { auth: ADMIN })).status).toBe(200);
    await waitFor(async () => (await bobTicks(owner)).length >= 3, "bob's instance ticking", 60_000);

    // Narrowed on the replica that does not run bob's instance.
    const narrowed = await other.api('PUT', '/plugin/permission', { auth: ADMIN, json: { modulePath: TICKER, permission: 'admins' } });
    expect(narrowed.status, narrowed.text).toBe(200);
    // The owner disables it in its process, and says so in the database.
    await waitFor(async () => (await c.sql('SELECT enabled FROM plugin_confs WHERE id = $1', [bobConf.id]))[0].enabled === false, "bob's instance disabled", 30_000);
    // The owner's view follows the rule: bob no longer sees the plugin there.
    await waitFor(async () => {
      const res = await owner.api('GET', '/plugin', { auth: BOB });
      return res.status === 200 && !(res.body as any[]).some((p) => p.modulePath === TICKER);
    }, 'the owner hiding the ticker from bob');
    expect((await owner.api('GET', `/plugin/${bobConf.id}/display`, { auth: BOB })).status).toBe(404);

    // Bob's ticks stopped: the admin's instance ticks on (5 more), bob's never again.
    const stoppedAt = Math.max(0, ...(await bobTicks(owner)));
    const adminTicks = async () => (await c.sql("SELECT count(*)::int AS n FROM messages WHERE user_id = 1 AND message LIKE 'tick %'"))[0].n as number;
    const adminBefore = await adminTicks();
    await waitFor(async () => (await adminTicks()) >= adminBefore + 5, "the admin's instance ticking on", 60_000);
    expect((await bobTicks(owner)).filter((id) => id > stoppedAt)).toEqual([]);
  });
});
