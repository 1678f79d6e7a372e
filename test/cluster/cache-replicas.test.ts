/**
 * The cached tables across replicas (issue 19): users, clients, applications and plugin confs
 * are served from each replica's memory, and a change committed on one replica is announced to
 * the others in its own transaction (store/pg/migrations.ts, version 5). Three `flow` processes
 * on one database (test/cluster/replicas.ts): a client token deleted on one is refused on the
 * others and its streams there close; an application renamed, or its token rotated, is seen so
 * on the others; a user deleted on one is gone on all; after a lost LISTEN session every cache
 * is read again, so a change made meanwhile is not missed.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startReplicas, type Replica, type ReplicaSet } from './replicas.js';

const ADMIN = basic('admin', 'admin');

describe('caches across replicas', () => {
  let set: ReplicaSet;
  let a: Replica;
  let others: Replica[];

  beforeAll(async () => {
    set = await startReplicas(3);
    [a, ...others] = set.replicas as [Replica, ...Replica[]];
  }, 180_000);
  afterAll(async () => {
    await set?.stop();
  });

  const whoAmI = (r: Replica, token: string) => r.api('GET', '/current/user', { token });
  const closed = (ws: { once(e: 'close', f: () => void): unknown }) => new Promise<void>((resolve) => ws.once('close', () => resolve()));

  it('refuses a client token deleted on one replica on every other, and closes its streams there', async () => {
    const client = await a.createClient('laptop');
    for (const r of others) await waitFor(async () => (await whoAmI(r, client.token)).status === 200, `the token on ${r.name}`);
    const streams = await Promise.all(others.map((r) => r.openStream(client.token)));
    const closing = streams.map((s) => closed(s.ws));

    expect((await a.api('DELETE', `/client/${client.id}`, { auth: ADMIN })).status).toBe(200);
    await Promise.all(closing);
    for (const r of others) {
      const res = await whoAmI(r, client.token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'Unauthorized', errorCode: 401 });
      await expect(r.openStream(client.token)).rejects.toThrow(/401/);
    }
  });

  it('shows an application renamed on one replica renamed on the others, and its rotated token working there', async () => {
    const app = await a.createApp({ name: 'before' });
    const appOn = async (r: Replica) => ((await r.api('GET', '/application', { auth: ADMIN })).body as { id: number; name: string; description: string }[]).find((x) => x.id === app.id);
    for (const r of others) await waitFor(() => appOn(r), `the app on ${r.name}`);
    expect((await a.api('PUT', `/application/${app.id}`, { auth: ADMIN, json: { name: 'after', description: 'renamed on A' } })).status).toBe(200);
    for (const r of others) {
      await waitFor(async () => (await appOn(r))?.name === 'after', `the new name on ${r.name}`);
      expect(await appOn(r)).toMatchObject({ name: 'after', description: 'renamed on A' });
    }
    // Gotify 3's rotation on A: the old token is refused on the others, the new one posts there.
    const rotated = await a.api('PUT', `/application/${app.id}/security`, { auth: ADMIN, json: { regenerateToken: true } });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.regenerateToken.token as string;
    for (const r of others) {
      await waitFor(async () => (await r.api('POST', '/message', { token: app.token, json: { message: 'old' } })).status === 401, `the old token refused on ${r.name}`);
      expect((await r.api('POST', '/message', { token: fresh, json: { message: 'new' } })).status).toBe(200);
    }
  });

  it('forgets a user deleted on one replica on every other, with its clients and streams', async () => {
    const created = await a.api('POST', '/user', { auth: ADMIN, json: { name: 'leaving', pass: 'leaving-pass', admin: false } });
    expect(created.status).toBe(200);
    const auth = basic('leaving', 'leaving-pass');
    const client = await a.createClient('their phone', auth);
    for (const r of others) await waitFor(async () => (await whoAmI(r, client.token)).status === 200, `the user's client on ${r.name}`);
    const stream = await others[0]!.openStream(client.token);
    const streamClosed = closed(stream.ws);
    expect((await a.api('DELETE', `/user/${created.body.id}`, { auth: ADMIN })).status).toBe(200);
    await streamClosed;
    for (const r of others) {
      await waitFor(async () => (await r.api('GET', '/current/user', { auth })).status === 401, `the user gone on ${r.name}`);
      expect((await whoAmI(r, client.token)).status).toBe(401);
      expect(((await r.api('GET', '/user', { auth: ADMIN })).body as { name: string }[]).map((u) => u.name)).not.toContain('leaving');
    }
  });

  it('reads every cache again after its LISTEN session was lost, so a change made meanwhile is seen', async () => {
    const b = others[0]!;
    const client = await a.createClient('gap');
    await waitFor(async () => (await whoAmI(b, client.token)).status === 200, 'the client on B');
    const database = set.connection.match(/dbname=(\S+)/)![1]!;
    const kv = Object.fromEntries(set.connection.split(/\s+/).map((p) => p.split('=') as [string, string]));
    // On the maintenance database: the cluster's own refuses new connections meanwhile.
    const onServer = async (sql: string, values: unknown[] = []) => {
      const c = new pg.Client({ host: kv.host, port: Number(kv.port), user: kv.user, database: 'postgres' });
      await c.connect();
      return (await c.query(sql, values).finally(() => c.end())).rows;
    };
    await onServer(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
    try {
      const cut = await onServer(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND query LIKE 'LISTEN%'`, [
        database,
        `flow/${await b.id()}`,
      ]);
      expect(cut).toEqual([{ ok: true }]);
      await b.waitForLog((l) => l.msg?.startsWith('the LISTEN session to PostgreSQL was lost'), 'B noticing the cut');
      expect((await a.api('DELETE', `/client/${client.id}`, { auth: ADMIN })).status).toBe(200);
      // Missed by B: its memory still has the client until it reads the tables again.
      expect((await whoAmI(b, client.token)).status).toBe(200);
    } finally {
      await onServer(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    }
    await b.waitForLog((l) => l.msg?.startsWith('the LISTEN session to PostgreSQL is back'), 'B listening again', 30_000);
    await waitFor(async () => (await whoAmI(b, client.token)).status === 401, 'the deleted client refused on B');
  });
});
