/**
 * Live streams across replicas (issue 19): three `flow` processes on one PostgreSQL database
 * (test/cluster/replicas.ts). A message posted on any replica reaches the user's /stream on
 * every replica, once, in each origin's order; a replica with no stream of the user reads none
 * of that user's messages; a LISTEN session killed while messages are posted (one of them a
 * late commit below an id already seen) is caught up after the reconnect, without a duplicate.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startReplicas, type Replica, type ReplicaSet } from './replicas.js';

type Stream = Awaited<ReturnType<Replica['openStream']>>;

/** A statement on the maintenance database of the shared server (it works while the cluster's own refuses connections). */
async function onServer(set: ReplicaSet, sql: string, values: unknown[] = []): Promise<any[]> {
  const kv = Object.fromEntries(set.connection.split(/\s+/).map((p) => p.split('=') as [string, string]));
  const c = new pg.Client({ host: kv.host, port: Number(kv.port), user: kv.user, database: 'postgres' });
  await c.connect();
  try {
    return (await c.query(sql, values)).rows;
  } finally {
    await c.end();
  }
}
const databaseOf = (set: ReplicaSet): string => set.connection.match(/dbname=(\S+)/)![1]!;

describe('stream delivery across replicas', () => {
  let set: ReplicaSet;
  let replicas: Replica[];
  let appToken: string;
  let appId: number;
  let clientToken: string;
  let ownerId: number;

  beforeAll(async () => {
    // Debug logs name the users whose messages a replica reads.
    set = await startReplicas(3, { env: { FLOW_LOG_LEVEL: 'debug' } });
    replicas = set.replicas;
    const [a] = replicas as [Replica];
    const app = await a.createApp({ name: 'alerts' });
    const client = await a.createClient('phone');
    appToken = app.token;
    appId = app.id;
    clientToken = client.token;
    ownerId = (await a.api('GET', '/current/user', { token: clientToken })).body.id;
    // The client was created after the app: once its token works on a replica, the app is known there too.
    for (const r of replicas) await waitFor(async () => (await r.api('GET', '/current/user', { token: clientToken })).status === 200, `the client on ${r.name}`);
  }, 180_000);
  afterAll(async () => {
    await set?.stop();
  });

  const post = async (r: Replica, message: string): Promise<number> => {
    const res = await r.api('POST', '/message', { token: appToken, json: { message } });
    expect(res.status).toBe(200);
    return res.body.id as number;
  };
  const received = (s: Stream, n: number, what: string) => waitFor(() => s.messages.length >= n && s.messages.slice(), what);

  it('delivers a message posted on any replica to the streams on every replica, once, in order per origin', async () => {
    const streams = await Promise.all(replicas.map((r) => r.openStream(clientToken)));
    const posted: { id: number; origin: number }[] = [];
    for (let i = 0; i < 12; i++) posted.push({ id: await post(replicas[i % 3]!, `turn ${i}`), origin: i % 3 });
    posted.push(...(await Promise.all(replicas.map(async (r, origin) => ({ id: await post(r, `together ${origin}`), origin })))));
    // A last message after all others: when it arrives, nothing delivered twice can still be on its way.
    const last = await post(replicas[1]!, 'last');
    posted.push({ id: last, origin: 1 });

    for (const [i, s] of streams.entries()) {
      const got = await waitFor(() => s.messages.some((m) => m.id === last) && s.messages.slice(), `the last message on ${replicas[i]!.name}`);
      const ids = got.map((m) => m.id as number);
      expect([...ids].sort((x, y) => x - y)).toEqual(posted.map((p) => p.id).sort((x, y) => x - y));
      expect(got.every((m) => m.appid === appId)).toBe(true);
      for (let origin = 0; origin < 3; origin++) {
        const mine = posted.filter((p) => p.origin === origin).map((p) => p.id);
        expect(ids.filter((id) => mine.includes(id))).toEqual([...mine].sort((x, y) => x - y));
      }
    }
    for (const s of streams) s.close();
  });

  it("reads no message of a user on a replica without that user's stream, beyond the id notification", async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    // Another user with a stream on C: its message, posted after the admin's, marks the point where C has handled both.
    const other = (await a.api('POST', '/user', { auth: 'Basic ' + Buffer.from('admin:admin').toString('base64'), json: { name: 'other', pass: 'other-pass', admin: false } })).body;
    const otherAuth = 'Basic ' + Buffer.from('other:other-pass').toString('base64');
    const otherApp = await a.createApp({ name: 'theirs' }, otherAuth);
    const otherClient = await a.createClient('their phone', otherAuth);
    await waitFor(async () => (await c.api('GET', '/current/user', { token: otherClient.token })).status === 200, 'the other client on C');
    const onB = await b.openStream(clientToken);
    const onC = await c.openStream(otherClient.token);
    const linesBefore = c.logs.length;

    const mine = [await post(a, 'only B has a stream of this user'), await post(a, 'still only B')];
    const theirs = await a.api('POST', '/message', { token: otherApp.token, json: { message: 'for the stream on C' } });
    expect(theirs.status).toBe(200);
    await received(onB, 2, 'the two messages on B');
    expect(onB.messages.map((m) => m.id)).toEqual(mine);
    await received(onC, 1, 'the other user’s message on C');
    expect(onC.messages.map((m) => m.id)).toEqual([theirs.body.id]);

    const reads = c.logs.slice(linesBefore).filter((l) => l.msg === 'reading messages posted on other replicas');
    expect(reads.length).toBeGreaterThan(0);
    for (const l of reads) expect(l.users).toEqual([other.id]);
    onB.close();
    onC.close();
  });

  it('catches up after its LISTEN session is killed while messages are posted, including a late commit below an id already seen', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const stream = await b.openStream(clientToken);
    const database = databaseOf(set);

    // A writer that draws a message id and holds its commit: the id is below the next one posted.
    const kv = Object.fromEntries(set.connection.split(/\s+/).map((p) => p.split('=') as [string, string]));
    const writer = new pg.Client({ host: kv.host, port: Number(kv.port), user: kv.user, database, application_name: 'late-writer' });
    // Cut with the rest at the end if the test fails half-way.
    writer.on('error', () => undefined);
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
    await received(stream, 1, 'the message before the cut');
    expect(stream.messages.map((m) => m.id)).toEqual([seenId]);

    // Cut B's LISTEN session and keep it from coming back while the gap is filled.
    await onServer(set, `ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
    const duringGap: number[] = [];
    try {
      const cut = await onServer(set, `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND query LIKE 'LISTEN%'`, [
        database,
        `flow/${await b.id()}`,
      ]);
      expect(cut).toEqual([{ ok: true }]);
      await b.waitForLog((l) => l.msg?.startsWith('the LISTEN session to PostgreSQL was lost'), 'B noticing the cut');
      for (let i = 0; i < 5; i++) duringGap.push(await post(a, `during the gap ${i}`));
      await writer.query('COMMIT');
      await writer.end();
    } finally {
      await onServer(set, `ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    }

    const caughtUp = await b.waitForLog((l) => l.msg === 'caught up on messages posted on other replicas', 'the catch-up on B', 30_000);
    expect(caughtUp.messages).toBe(6);
    const got = await received(stream, 7, 'the messages of the gap');
    expect(got.slice(1).map((m) => m.id as number).sort((x, y) => x - y)).toEqual([lateId, ...duringGap].sort((x, y) => x - y));
    // Then the stream goes on as before, without repeats.
    const after = await post(a, 'after the reconnect');
    const all = await waitFor(() => stream.messages.some((m) => m.id === after) && stream.messages.slice(), 'the message after the reconnect');
    expect(all.map((m) => m.id)).toHaveLength(8);
    stream.close();
  });
});
