/**
 * The fence inside a plugin instance's writes (issue 19): with replicas, a message, storage or
 * key-value write done for an instance commits only while the instance's lease token still holds,
 * checked in the write's own transaction. The host's earlier check (`holds()`, a local deadline)
 * cannot see a lease lost between that check and the commit, so the test makes exactly that
 * happen: it locks the table the write goes to, lets the cluster-writer fixture issue one write
 * (which passes every check and then waits on the lock), gives the lease to another holder in the
 * database, and only then lets the write go on. The write must be refused (UnknownInstance, the
 * code for an instance this process no longer has), store nothing, and the instance must stop
 * on that replica. Without the fence the write commits: this test fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkFixture } from '../helpers/plugins.js';
import { basic } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { ADMIN } from './plugin-ticker.js';
import { clientFor, startReplicas, type Replica, type ReplicaSet } from './replicas.js';

const WRITER = 'github.com/flow/test/cluster-writer';
/** UnknownInstance (spec/protocol.md, error codes). */
const UNKNOWN_INSTANCE = 1002;

describe('fenced plugin writes across replicas', () => {
  let c: ReplicaSet;
  let r1: Replica;
  let dir: string;
  let conf: { id: number; token: string };
  const lease = () => `plugin-instance:${conf.id}`;
  const write = (what: string, body: string) => r1.api('POST', `/plugin/${conf.id}/custom/${conf.token}/${what}`, { body });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flow-cluster-plugins-'));
    await linkFixture(dir, 'cluster-writer');
    c = await startReplicas(1, { env: { FLOW_PLUGINSDIR: dir } });
    r1 = c.replicas[0]!;
    conf = await waitFor(async () => {
      const res = await r1.api('GET', '/plugin', { auth: ADMIN });
      return res.status === 200 && (res.body as any[]).find((p) => p.modulePath === WRITER);
    }, "the admin's writer instance", 60_000);
    expect((await r1.api('POST', `/plugin/${conf.id}/enable`, { auth: ADMIN })).status).toBe(200);
  });
  afterAll(async () => {
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** What the database holds for each kind of write. */
  const stored = {
    message: async (body: string) => (await c.sql('SELECT count(*)::int AS n FROM messages WHERE message = $1', [body]))[0].n > 0,
    kv: async (body: string) => (await c.sql("SELECT value FROM plugin_kv WHERE conf_id = $1 AND key = 'note'", [conf.id]))[0]?.value === JSON.stringify(body),
    storage: async (body: string) => (await c.sql('SELECT data FROM plugin_storage WHERE conf_id = $1', [conf.id]))[0]?.data?.toString('utf8') === body,
  };
  const tables = { message: 'messages', kv: 'plugin_kv', storage: 'plugin_storage' } as const;

  it.each(['message', 'kv', 'storage'] as const)('a %s write held past the loss of the lease is refused and stores nothing', async (what) => {
    // The instance runs on r1 and writes go through.
    const ok = await waitFor(async () => {
      const res = await write(what, `${what} before`);
      return res.status === 200 && res;
    }, 'a write through the writer instance on r1', 60_000);
    expect(ok.body.result).toBeDefined();
    expect(await stored[what](`${what} before`)).toBe(true);

    const logsFrom = r1.logs.length;
    const held = clientFor(c.connection);
    await held.connect();
    let locked = false;
    try {
      await held.query('BEGIN');
      // EXCLUSIVE: the replica's INSERT/UPDATE waits; reads go on.
      await held.query(`LOCK TABLE ${tables[what]} IN EXCLUSIVE MODE`);
      locked = true;
      const body = `${what} after the lease moved`;
      const reply = write(what, body);
      // The write passed the host's checks and waits on the lock, inside its transaction.
      await waitFor(async () => {
        const rows = await c.sql("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'flow/%' AND wait_event_type = 'Lock' AND query ILIKE $1", [
          `%${tables[what]}%`,
        ]);
        return rows.length > 0;
      }, `the ${what} write waiting on the lock`);
      // Another holder takes the lease (a new token), as a replica would after this one paused.
      const moved = await c.sql("UPDATE leases SET holder = 'intruder', token = nextval('lease_token_seq'), expires_at = now() + interval '1 hour' WHERE name = $1 RETURNING token", [lease()]);
      expect(moved).toHaveLength(1);
      await held.query('COMMIT');
      locked = false;

      const res = await reply;
      expect(res.status).toBe(409);
      expect(res.body.refused).toMatchObject({ code: UNKNOWN_INSTANCE, data: { instanceId: String(conf.id) } });
      expect(await stored[what](body)).toBe(false);
      // The replica stops the instance: it no longer runs here.
      await waitFor(() => r1.logs.slice(logsFrom).some((l) => l.msg?.startsWith('lost the lease of a plugin instance') && l.instanceId === conf.id), 'the instance stopped on r1');
      expect((await write(what, `${what} while stopped`)).status).toBe(503);
    } finally {
      if (locked) await held.query('ROLLBACK');
      await held.end();
      // The lease given back: r1 takes the instance again (for the next case).
      await c.sql("DELETE FROM leases WHERE name = $1 AND holder = 'intruder'", [lease()]);
    }
  });

  it("the internal application of a first enable, held past the loss of the lease, is not created", async () => {
    const created = await r1.api('POST', '/user', { auth: ADMIN, json: { name: 'carol', pass: 'carol-password', admin: false } });
    expect(created.status, created.text).toBe(200);
    const carol = basic('carol', 'carol-password');
    const mine = await waitFor(async () => {
      const res = await r1.api('GET', '/plugin', { auth: carol });
      return res.status === 200 && (res.body as any[]).find((p) => p.modulePath === WRITER);
    }, "carol's writer instance", 60_000);
    await waitFor(async () => (await c.sql('SELECT 1 FROM leases WHERE name = $1', [`plugin-instance:${mine.id}`])).length > 0, "r1 holding carol's instance");
    const held = clientFor(c.connection);
    await held.connect();
    let locked = false;
    try {
      await held.query('BEGIN');
      await held.query('LOCK TABLE applications IN EXCLUSIVE MODE');
      locked = true;
      // Her first enable creates the messenger's internal application: that insert waits on the lock.
      const enabling = r1.api('POST', `/plugin/${mine.id}/enable`, { auth: carol });
      await waitFor(async () => {
        const rows = await c.sql("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'flow/%' AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO applications%'");
        return rows.length > 0;
      }, 'the internal application insert waiting on the lock');
      const moved = await c.sql("UPDATE leases SET holder = 'intruder', token = nextval('lease_token_seq'), expires_at = now() + interval '1 hour' WHERE name = $1 RETURNING token", [
        `plugin-instance:${mine.id}`,
      ]);
      expect(moved).toHaveLength(1);
      await held.query('COMMIT');
      locked = false;
      const res = await enabling;
      expect(res.status, res.text).toBe(503);
      expect((await c.sql('SELECT count(*)::int AS n FROM applications WHERE user_id = $1', [created.body.id]))[0].n).toBe(0);
      expect((await c.sql('SELECT application_id::int, enabled FROM plugin_confs WHERE id = $1', [mine.id]))[0]).toEqual({ application_id: 0, enabled: false });
    } finally {
      if (locked) await held.query('ROLLBACK');
      await held.end();
    }
  });
});
