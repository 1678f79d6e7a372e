/**
 * Live streams across replicas (issue 19): three Flow servers on one real PostgreSQL 15 on
 * loopback. A message posted on any replica reaches the user's /stream on every replica, once,
 * in each origin's order; a replica with no stream of the user reads nothing; a LISTEN session
 * killed while messages are posted (one of them a late commit below an id already seen) is
 * caught up after the reconnect without a duplicate.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import type { TestServer, TestStream } from '../helpers/server.js';
import { clusterAvailable, startCluster, type Cluster } from './shared-database.js';

describe.runIf(clusterAvailable)('stream delivery across replicas', () => {
  let cluster: Cluster;
  let replicas: TestServer[];
  let appToken: string;
  let clientToken: string;
  let appId: number;
  let ownerId: number;

  beforeAll(async () => {
    cluster = await startCluster(3);
    replicas = cluster.replicas;
    const app = await replicas[0]!.createApp({ name: 'alerts' });
    const client = await replicas[0]!.createClient('phone');
    appToken = app.token;
    appId = app.id;
    clientToken = client.token;
    ownerId = (await replicas[0]!.api('GET', '/current/user', { auth: replicas[0]!.adminAuth })).body.id;
    for (const r of replicas) {
      await waitFor(() => r.flow.app.store.applications.getByToken(appToken) && r.flow.app.store.clients.getByToken(clientToken), 'the replicas know the app and client');
    }
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const post = async (r: TestServer, message: string): Promise<number> => {
    const res = await r.api('POST', '/message', { token: appToken, json: { message } });
    expect(res.status).toBe(200);
    return res.body.id as number;
  };

  /** The next `n` messages of a stream (a missing one fails with the helper's bound). */
  const take = async (s: TestStream, n: number): Promise<any[]> => {
    const out: any[] = [];
    for (let i = 0; i < n; i++) out.push(await s.next(20_000));
    return out;
  };

  it('delivers a message posted on any replica to the streams on every replica, once, in order per origin', async () => {
    const streams = await Promise.all(replicas.map((r) => r.openStream(clientToken)));
    const posted: { id: number; origin: number }[] = [];
    // Posted on each replica in turn, and some at once on all three.
    for (let i = 0; i < 12; i++) posted.push({ id: await post(replicas[i % 3]!, `turn ${i}`), origin: i % 3 });
    const together = await Promise.all(replicas.map(async (r, origin) => ({ id: await post(r, `together ${origin}`), origin })));
    posted.push(...together);

    for (const s of streams) {
      const got = await take(s, posted.length);
      const ids = got.map((m) => m.id as number);
      expect([...ids].sort((a, b) => a - b)).toEqual(posted.map((p) => p.id).sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      expect(got.every((m) => m.appid === appId)).toBe(true);
      for (let origin = 0; origin < 3; origin++) {
        const mine = posted.filter((p) => p.origin === origin).map((p) => p.id);
        expect(ids.filter((id) => mine.includes(id))).toEqual([...mine].sort((a, b) => a - b));
      }
    }
    // A last message is the next thing every stream sees: nothing was delivered twice in between.
    const last = await post(replicas[1]!, 'sentinel');
    for (const s of streams) expect((await s.next(20_000)).id).toBe(last);
    for (const s of streams) s.close();
    await waitFor(() => replicas.every((r) => r.flow.app.hub.count() === 0), 'the streams closed');
  });

  it('reads nothing on a replica with no stream of the user, beyond the id notification', async () => {
    const [a, b, c] = replicas as [TestServer, TestServer, TestServer];
    const stream = await b.openStream(clientToken);
    const before = c.flow.app.replicaFeed!.stats.reads;
    const ids = [await post(a, 'only B listens'), await post(a, 'still only B')];
    expect((await take(stream, 2)).map((m) => m.id)).toEqual(ids);
    // C received both notifications (its feed is idle again) and read no message.
    await c.flow.app.replicaFeed!.settled();
    expect(c.flow.app.replicaFeed!.stats.reads).toBe(before);
    stream.close();
  });

  it('catches up after its LISTEN session is killed while messages are posted, including a late commit below an id already seen', async () => {
    const [a, b] = replicas as [TestServer, TestServer];
    const stream = await b.openStream(clientToken);
    const feed = b.flow.app.replicaFeed!;
    const caughtUpBefore = feed.stats.caughtUp;

    // A writer that draws a message id and holds its commit: the id is below the next one posted.
    const writer = new pg.Client({ ...cluster.clientConfig, application_name: 'late-writer' });
    await writer.connect();
    await writer.query('BEGIN');
    const { rows } = await writer.query<{ id: string }>(
      `INSERT INTO messages (id, app_id, user_id, message, title, priority, extras, date)
       VALUES (nextval('message_id_seq'), $1, $2, 'late commit', '', 0, NULL, now()) RETURNING id`,
      [appId, ownerId],
    );
    const lateId = Number(rows[0]!.id);
    const seenId = await post(a, 'seen before the cut');
    expect(seenId).toBeGreaterThan(lateId);
    expect((await stream.next(20_000)).id).toBe(seenId);

    // Cut B's LISTEN session and keep it from reconnecting while the gap is filled.
    await cluster.admin(`ALTER DATABASE ${cluster.database} ALLOW_CONNECTIONS false`);
    await cluster.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND query LIKE 'LISTEN%'`, [
      cluster.database,
      `flow/${b.flow.app.replicaId}`,
    ]);
    await waitFor(() => !feed.listening, "B's LISTEN session is gone");
    const duringGap = [];
    for (let i = 0; i < 5; i++) duringGap.push(await post(a, `during the gap ${i}`));
    await writer.query('COMMIT');
    await writer.end();
    await cluster.admin(`ALTER DATABASE ${cluster.database} ALLOW_CONNECTIONS true`);

    const got = (await take(stream, 6)).map((m) => m.id as number);
    expect(got.sort((x, y) => x - y)).toEqual([lateId, ...duringGap].sort((x, y) => x - y));
    expect(feed.listening).toBe(true);
    expect(feed.stats.caughtUp - caughtUpBefore).toBe(6);
    // After the catch-up the stream goes on as before, without repeats.
    const after = await post(a, 'after the reconnect');
    expect((await stream.next(20_000)).id).toBe(after);
    stream.close();
  });
});
