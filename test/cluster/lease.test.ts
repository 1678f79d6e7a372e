/**
 * The cluster's primitives against the real PostgreSQL: named leases with fencing tokens
 * (server/src/cluster/lease.ts) and the replica registry (server/src/cluster/replica.ts). Two
 * "replicas" here are two holders on their own pools, as two processes would be; expiry and
 * liveness are decided by the database clock, so the tests move time by waiting for short ttls
 * to pass in PostgreSQL (never by a sleep: `waitFor` polls the database's own view).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Leases, leaseFence } from '../../server/src/cluster/lease.js';
import { newReplicaIdentity, ReplicaRegistry } from '../../server/src/cluster/replica.js';
import { FlowError } from '../../server/src/errors.js';
import { applyMigrations } from '../../server/src/store/pg/migrations.js';
import { PgDb } from '../../server/src/store/pg/pg-db.js';
import { waitFor } from '../helpers/wait.js';
import { freshDatabase } from './replicas.js';

describe('leases and the replica registry on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: PgDb;
  let b: PgDb;

  beforeAll(async () => {
    db = await freshDatabase('flow_lease');
    a = new PgDb(db.connection);
    b = new PgDb(db.connection);
    await applyMigrations(a);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  /** Whether PostgreSQL considers the lease expired now. */
  const expired = async (name: string) => ((await a.query('SELECT expires_at <= now() AS e FROM leases WHERE name = $1', [name])).rows[0]?.e ?? true) as boolean;

  it('gives a free lease to one holder; the other is refused until it expires, then gets a higher token', async () => {
    const la = new Leases(a, 'replica-a');
    const lb = new Leases(b, 'replica-b');
    const t1 = await la.acquire('job', 60_000);
    expect(t1).toEqual(expect.any(Number));
    expect(await lb.acquire('job', 60_000)).toBeNull();
    // Asking again while holding it extends it under the same token.
    expect(await la.acquire('job', 60_000)).toBe(t1);
    expect(await la.state('job')).toMatchObject({ holder: 'replica-a', token: t1 });

    const s1 = await la.acquire('short', 300);
    expect(await lb.acquire('short', 60_000)).toBeNull();
    await waitFor(() => expired('short'), 'the short lease to expire by the database clock');
    const s2 = await lb.acquire('short', 60_000);
    expect(s2).toBeGreaterThan(s1!);
    expect((await lb.state('short'))!.holder).toBe('replica-b');
    // The old holder cannot renew nor re-take it while b holds it.
    expect([...(await la.renew([{ name: 'short', token: s1! }], 60_000))]).toEqual([]);
    expect(await la.acquire('short', 60_000)).toBeNull();
  });

  it('races: of many concurrent acquirers of one free lease exactly one wins', async () => {
    const holders = Array.from({ length: 8 }, (_, i) => new Leases(i % 2 ? a : b, `racer-${i}`));
    const tokens = await Promise.all(holders.map((h) => h.acquire('race', 60_000)));
    expect(tokens.filter((t) => t !== null)).toHaveLength(1);
  });

  it('renews many leases in one statement and does not revive one that expired', async () => {
    const la = new Leases(a, 'renewer');
    const x = { name: 'renew-x', token: (await la.acquire('renew-x', 60_000))! };
    const y = { name: 'renew-y', token: (await la.acquire('renew-y', 60_000))! };
    const z = { name: 'renew-z', token: (await la.acquire('renew-z', 200))! };
    await waitFor(() => expired('renew-z'), 'renew-z to expire');
    const before = (await a.query('SELECT name, expires_at FROM leases WHERE name = ANY($1)', [['renew-x', 'renew-y']])).rows;
    const held = await la.renew([x, y, z, { name: 'renew-x-wrong-token', token: x.token + 1000 }], 120_000);
    expect([...held].sort()).toEqual(['renew-x', 'renew-y']);
    const after = (await a.query('SELECT name, expires_at FROM leases WHERE name = ANY($1)', [['renew-x', 'renew-y']])).rows;
    for (const row of after) expect(row.expires_at.getTime()).toBeGreaterThan(before.find((r) => r.name === row.name)!.expires_at.getTime());
    expect(await expired('renew-z')).toBe(true);
    // Taken anew after expiry: a new token.
    expect(await la.acquire('renew-z', 60_000)).toBeGreaterThan(z.token);
  });

  it('release frees a lease at once for another holder; releaseAll frees all of a holder', async () => {
    const la = new Leases(a, 'leaver');
    const lb = new Leases(b, 'taker');
    const t = (await la.acquire('handover', 60_000))!;
    expect(await lb.acquire('handover', 60_000)).toBeNull();
    expect(await la.release('handover', t)).toBe(true);
    expect(await la.release('handover', t)).toBe(false);
    expect(await lb.acquire('handover', 60_000)).toBeGreaterThan(t);

    await la.acquire('many-1', 60_000);
    await la.acquire('many-2', 60_000);
    expect(await la.releaseAll()).toBe(2);
    expect(await lb.acquire('many-1', 60_000)).not.toBeNull();
  });

  it('fences a write: it commits while the token holds, and is refused (rolled back) once the lease moved on', async () => {
    await a.query('CREATE TABLE fenced_writes (n integer)');
    const la = new Leases(a, 'paused-leader');
    const lb = new Leases(b, 'new-leader');
    const t1 = (await la.acquire('fenced', 300))!;
    const fence = leaseFence('fenced', t1);
    await a.tx(async (q) => {
      await fence.check(q);
      await q.query('INSERT INTO fenced_writes VALUES (1)');
    });
    // a is "paused": it stops renewing, its lease expires, b takes it.
    await waitFor(() => expired('fenced'), 'the lease to expire');
    const t2 = (await lb.acquire('fenced', 60_000))!;
    expect(t2).toBeGreaterThan(t1);
    // a resumes and tries to act under its old token: refused, nothing written.
    const late = a.tx(async (q) => {
      await q.query('INSERT INTO fenced_writes VALUES (2)');
      await fence.check(q);
    });
    await expect(late).rejects.toSatisfy((e: unknown) => e instanceof FlowError && e.code === 'FLOW_ERR_LEASE_LOST');
    await b.tx(async (q) => {
      await leaseFence('fenced', t2).check(q);
      await q.query('INSERT INTO fenced_writes VALUES (3)');
    });
    expect((await a.query('SELECT n FROM fenced_writes ORDER BY n')).rows.map((r) => r.n)).toEqual([1, 3]);
  });

  it('a takeover waits for a fenced write in flight to commit (the row is locked FOR SHARE)', async () => {
    const la = new Leases(a, 'slow-writer');
    const lb = new Leases(b, 'usurper');
    const t = (await la.acquire('locked', 400))!;
    let release!: () => void;
    const holding = new Promise<void>((r) => (release = r));
    let checked!: () => void;
    const inside = new Promise<void>((r) => (checked = r));
    const write = a.tx(async (q) => {
      await leaseFence('locked', t).check(q);
      checked();
      await holding;
    });
    await inside;
    await waitFor(() => b.query('SELECT expires_at <= now() AS e FROM leases WHERE name = $1', ['locked']).then((r) => r.rows[0].e as boolean), 'the lease to expire');
    let taken = false;
    const takeover = lb.acquire('locked', 60_000).then((tok) => {
      taken = true;
      return tok;
    });
    // The takeover is blocked by the writer's lock: witness, a statement on another connection
    // completes while the takeover is still waiting.
    await waitFor(async () => (await b.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")).rows[0].n > 0, 'the takeover to wait on the lock');
    expect(taken).toBe(false);
    release();
    await write;
    expect(await takeover).toBeGreaterThan(t);
  });

  it('a holder paused inside a fenced transaction does not block the takeover for long: PostgreSQL ends its idle session', async () => {
    const paused = new PgDb(db.connection, { idleInTransactionMs: 500 });
    try {
      const lp = new Leases(paused, 'paused-in-tx');
      const lb = new Leases(b, 'next-in-line');
      const t = (await lp.acquire('stuck', 300))!;
      // The fence's row lock is taken, then the "process" stops sending anything (as under SIGSTOP).
      const client = await paused.pool.connect();
      client.on('error', () => undefined);
      await client.query('BEGIN');
      await leaseFence('stuck', t).check(client);
      await waitFor(() => expired('stuck'), 'the lease to expire');
      // The takeover waits on the lock only until PostgreSQL ends the idle transaction.
      const t2 = await lb.acquire('stuck', 60_000);
      expect(t2).toBeGreaterThan(t);
      // The paused holder, resumed, finds its session gone: its write never happens.
      await expect(client.query('INSERT INTO fenced_writes VALUES (9)')).rejects.toThrow();
      client.release(true);
      expect((await a.query('SELECT count(*)::int AS n FROM fenced_writes WHERE n = 9')).rows[0].n).toBe(0);
    } finally {
      await paused.close();
    }
  });

  it('registry: live replicas by heartbeat (database clock), lookup by id and by plugin, dead rows removed, a removed live replica comes back', async () => {
    const r1 = new ReplicaRegistry(a, newReplicaIdentity('one'), { periodMs: 60_000, ttlMs: 60_000 });
    const r2 = new ReplicaRegistry(b, newReplicaIdentity('two'), { periodMs: 60_000, ttlMs: 400 });
    await r1.start();
    await r2.start();
    await r1.setAdvertiseUrl('http://127.0.0.1:1111');
    await r2.setPluginModules(['github.com/x/clock', 'github.com/x/echo', 'github.com/x/clock']);
    const live = await r1.live();
    expect(live.map((r) => r.name)).toEqual(['one', 'two']);
    expect(live[0]).toMatchObject({ id: r1.self.id, advertiseUrl: 'http://127.0.0.1:1111', pluginModules: [] });
    expect(live[1]).toMatchObject({ id: r2.self.id, advertiseUrl: null, pluginModules: ['github.com/x/clock', 'github.com/x/echo'] });
    expect((await r1.withPlugin('github.com/x/echo')).map((r) => r.id)).toEqual([r2.self.id]);
    expect(await r1.get(r2.self.id)).toMatchObject({ name: 'two' });
    expect(await r1.get('no-such-replica')).toBeUndefined();

    // r2 stops heartbeating (its period is a minute): dead after its own ttl of 400 ms.
    await waitFor(async () => (await r1.get(r2.self.id)) === undefined, 'r2 to be dead by the database clock');
    expect((await r1.live()).map((r) => r.name)).toEqual(['one']);
    expect(await r1.removeDead()).toEqual([r2.self.id]);
    expect((await a.query('SELECT id FROM replicas')).rows.map((r) => r.id)).toEqual([r1.self.id]);
    // Its next heartbeat writes the row again.
    await r2.heartbeat();
    expect((await r1.get(r2.self.id))?.pluginModules).toEqual(['github.com/x/clock', 'github.com/x/echo']);

    await r2.close();
    expect(await r1.get(r2.self.id)).toBeUndefined();
    await r1.close();
    expect((await a.query('SELECT count(*)::int AS n FROM replicas')).rows[0].n).toBe(0);
  });
});
