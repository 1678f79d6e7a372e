/**
 * The instance leases of the plugin host (server/src/cluster/plugin-leases.ts) on the real
 * PostgreSQL, two "replicas" as two PluginLeases on their own pools with their own registry rows
 * (the hooks stand for the plugin service: which plugins run, bring up, stop). Ticks are driven
 * by the test (`tick()`), so "a replica paused" is simply one that does not tick; expiry is the
 * database's, waited for by polling its own view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Leases } from '../../server/src/cluster/lease.js';
import { PluginLeases, instanceLease } from '../../server/src/cluster/plugin-leases.js';
import { newReplicaIdentity, ReplicaRegistry } from '../../server/src/cluster/replica.js';
import { createLogger } from '../../server/src/log.js';
import { applyMigrations } from '../../server/src/store/pg/migrations.js';
import { PgDb } from '../../server/src/store/pg/pg-db.js';
import { waitFor } from '../helpers/wait.js';
import { freshDatabase } from './replicas.js';

const MODULE = 'github.com/flow/test/leased';
const INSTANCES = 40;

describe('plugin instance leases', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const pools: PgDb[] = [];
  const confIds: number[] = [];

  beforeAll(async () => {
    db = await freshDatabase('flow_plugin_leases');
    const setup = new PgDb(db.connection);
    pools.push(setup);
    await applyMigrations(setup);
    await setup.query("INSERT INTO users (id, name, pass_hash, admin) SELECT g, 'u' || g, 'x', false FROM generate_series(1, $1) g", [INSTANCES]);
    const { rows } = await setup.query<{ id: string }>(
      `INSERT INTO plugin_confs (id, user_id, module_path, token, application_id, enabled, config, created_at)
       SELECT g, g, $1, 'P' || g, 0, true, '', now() FROM generate_series(1, $2) g RETURNING id`,
      [MODULE, INSTANCES],
    );
    confIds.push(...rows.map((r) => Number(r.id)));
  });
  afterAll(async () => {
    for (const p of pools) await p.close();
    await db?.drop();
  });

  /** A replica: its registry row, its leases and what the plugin service was asked to do. */
  async function replica(name: string, timing?: { periodMs: number; ttlMs: number; safetyMs: number; batch: number }) {
    const pool = new PgDb(db.connection);
    pools.push(pool);
    const registry = new ReplicaRegistry(pool, newReplicaIdentity(name));
    await registry.start();
    const leases = new PluginLeases({ leases: new Leases(pool, registry.self.id), registry, db: pool, log: createLogger({ level: 'silent' }) }, timing);
    const adopted: number[] = [];
    const lost: number[] = [];
    const hooks = { runningModules: () => [MODULE], moduleOf: () => MODULE, wants: () => true, adopt: async (id: number) => void adopted.push(id), lost: async (id: number) => void lost.push(id) };
    return {
      registry,
      leases,
      adopted,
      lost,
      held: () => new Set(leases.heldIds()),
      /** Scheduled rounds from now (`manual`: none, the test calls tick()). */
      start: (manual = false) => void leases.start(hooks, manual),
    };
  }

  it('two replicas running the plugin split the free instances, each up to its fair share, and never both hold one', async () => {
    const a = await replica('a');
    const b = await replica('b');
    // Both publish the plugin before either takes anything (as their first ticks would).
    await a.registry.setPluginModules([MODULE]);
    await b.registry.setPluginModules([MODULE]);
    a.start();
    b.start();
    await waitFor(() => a.held().size + b.held().size === INSTANCES && a.held().size > 0 && b.held().size > 0, 'the instances taken by their scheduled ticks', 30_000);
    expect(a.held().size).toBe(INSTANCES / 2);
    expect(b.held().size).toBe(INSTANCES / 2);
    expect([...a.held()].filter((id) => b.held().has(id))).toEqual([]);
    expect(new Set([...a.adopted, ...b.adopted])).toEqual(new Set(confIds));
    const rows = await pools[0]!.query<{ n: number }>('SELECT count(DISTINCT holder)::int AS n FROM leases WHERE expires_at > now()');
    expect(rows.rows[0]!.n).toBe(2);
    await a.leases.stop();
    await b.leases.stop();
    await a.registry.close();
    await b.registry.close();
    // A clean stop gives every lease back at once.
    expect((await pools[0]!.query('SELECT 1 FROM leases WHERE expires_at > now()')).rowCount).toBe(0);
  });

  it('a replica that stops renewing loses its leases: it distrusts them before the database frees them, and is told when it resumes', async () => {
    const timing = { periodMs: 60_000, ttlMs: 800, safetyMs: 300, batch: 64 };
    const a = await replica('paused', timing);
    a.start(true);
    await a.leases.tick();
    expect(a.held().size).toBe(INSTANCES);
    const one = confIds[0]!;
    expect(a.leases.holds(one)).toBe(true);
    // "Paused": no tick. Once PostgreSQL says the lease expired, the replica no longer trusts it.
    await waitFor(async () => (await pools[0]!.query('SELECT 1 FROM leases WHERE name = $1 AND expires_at <= now()', [instanceLease(one)])).rowCount === 1, 'the lease to expire in the database');
    expect(a.leases.holds(one)).toBe(false);
    const b = await replica('taker', timing);
    b.start(true);
    await b.leases.tick();
    expect(b.held().size).toBeGreaterThan(0);
    // Resumed: its renewal finds every lease gone (expired ones are never revived), each stopped here.
    await a.leases.tick();
    expect(new Set(a.lost)).toEqual(new Set(confIds));
    for (const id of b.held()) expect(a.held().has(id)).toBe(false);
    await a.leases.stop();
    await b.leases.stop();
    await a.registry.close();
    await b.registry.close();
  });
});
