/**
 * The cached tables across replicas (issue 19): users, clients, applications and plugin confs
 * are served from each replica's memory, and a change committed on one replica is announced
 * to the others in its own transaction (store/pg/migrations.ts, version 5). A deleted client
 * token is refused everywhere and its streams close everywhere; a renamed application shows
 * renamed on the others; a user deleted on one is gone on all; after a lost LISTEN session
 * every cache is read again (changes made meanwhile are not missed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import type { TestServer } from '../helpers/server.js';
import { clusterAvailable, startCluster, type Cluster } from './shared-database.js';

describe.runIf(clusterAvailable)('caches across replicas', () => {
  let cluster: Cluster;
  let a: TestServer;
  let others: TestServer[];

  beforeAll(async () => {
    cluster = await startCluster(3);
    [a, ...others] = cluster.replicas as [TestServer, ...TestServer[]];
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const whoAmI = (r: TestServer, token: string) => r.api('GET', '/current/user', { token });

  it('refuses a client token deleted on one replica on every other, and closes its streams there', async () => {
    const client = await a.createClient('laptop');
    for (const r of others) await waitFor(async () => (await whoAmI(r, client.token)).status === 200, 'the token works on every replica');
    const streams = await Promise.all(others.map((r) => r.openStream(client.token)));

    expect((await a.api('DELETE', `/client/${client.id}`, { auth: a.adminAuth })).status).toBe(200);
    for (const s of streams) await s.closed;
    for (const r of others) {
      const res = await whoAmI(r, client.token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'Unauthorized', errorCode: 401 });
      await expect(r.openStream(client.token)).rejects.toMatchObject({ status: 401 });
    }
  });

  it('shows an application renamed on one replica renamed on the others, and its new token working there', async () => {
    const app = await a.createApp({ name: 'before' });
    for (const r of others) await waitFor(() => r.flow.app.store.applications.get(app.id), 'the app on every replica');
    expect((await a.api('PUT', `/application/${app.id}`, { auth: a.adminAuth, json: { name: 'after', description: 'renamed on A' } })).status).toBe(200);
    for (const r of others) {
      await waitFor(async () => {
        const list = (await r.api('GET', '/application', { auth: r.adminAuth })).body as { id: number; name: string; description: string }[];
        return list.find((x) => x.id === app.id)?.name === 'after' && list.find((x) => x.id === app.id)!.description === 'renamed on A';
      }, 'the new name on ' + r.url);
    }
    // A new token on A (Gotify 3's rotation): the old one is refused on the others, the new one posts there.
    const rotated = await a.api('PUT', `/application/${app.id}/security`, { auth: a.adminAuth, json: { regenerateToken: true } });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.regenerateToken.token as string;
    for (const r of others) {
      await waitFor(async () => (await r.api('POST', '/message', { token: app.token, json: { message: 'old' } })).status === 401, 'the old token refused on ' + r.url);
      expect((await r.api('POST', '/message', { token: fresh, json: { message: 'new' } })).status).toBe(200);
    }
  });

  it('forgets a user deleted on one replica on every other', async () => {
    const user = await a.createUser('leaving');
    for (const r of others) await waitFor(async () => (await r.api('GET', '/current/user', { auth: user.auth })).status === 200, 'the user on every replica');
    const client = await a.createClient('their phone', user.auth);
    for (const r of others) await waitFor(() => r.flow.app.store.clients.getByToken(client.token), 'the client on every replica');
    const stream = await others[0]!.openStream(client.token);
    expect((await a.api('DELETE', `/user/${user.id}`, { auth: a.adminAuth })).status).toBe(200);
    await stream.closed;
    for (const r of others) {
      await waitFor(() => r.flow.app.store.users.get(user.id) === undefined, 'the user gone');
      expect((await r.api('GET', '/current/user', { auth: user.auth })).status).toBe(401);
      expect((await whoAmI(r, client.token)).status).toBe(401);
      expect((await r.api('GET', '/user', { auth: r.adminAuth })).body.map((u: { name: string }) => u.name)).not.toContain('leaving');
    }
  });

  it('reads every cache again after its LISTEN session was lost, so a change made meanwhile is seen', async () => {
    const b = others[0]!;
    const client = await a.createClient('gap');
    await waitFor(() => b.flow.app.store.clients.getByToken(client.token), 'the client on B');
    const feed = b.flow.app.replicaFeed!;
    const resyncs = feed.stats.resyncs;
    await cluster.admin(`ALTER DATABASE ${cluster.database} ALLOW_CONNECTIONS false`);
    try {
      await cluster.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND query LIKE 'LISTEN%'`, [
        cluster.database,
        `flow/${b.flow.app.replicaId}`,
      ]);
      await waitFor(() => !feed.listening, "B's LISTEN session is gone");
      expect((await a.api('DELETE', `/client/${client.id}`, { auth: a.adminAuth })).status).toBe(200);
      // Missed by B: its cache still has the client until it resynchronises.
      expect(b.flow.app.store.clients.getByToken(client.token)).toBeDefined();
    } finally {
      await cluster.admin(`ALTER DATABASE ${cluster.database} ALLOW_CONNECTIONS true`);
    }
    await waitFor(() => feed.stats.resyncs > resyncs && feed.listening, 'B listening again');
    await feed.settled();
    expect(b.flow.app.store.clients.getByToken(client.token)).toBeUndefined();
    expect((await whoAmI(b, client.token)).status).toBe(401);
  });
});
