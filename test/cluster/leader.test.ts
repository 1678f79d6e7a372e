/**
 * The leader lease across real replicas (server/src/cluster/leader.ts): exactly one replica leads
 * and says so in /health; retention (a singleton job) runs only on it and moves to another
 * replica when it is SIGKILLed — enforced again there, never by two; a paused (SIGSTOP) leader
 * that resumes after losing the lease stops acting; a clean stop hands the lease over at once;
 * replica wall clocks an hour off change none of it (every lease time is PostgreSQL's).
 *
 * Applications, users and clients are made on r1 before the other replicas start, so every
 * replica knows them from its start (what the replicas learn of later changes is another part).
 * Retention: the server default `retention.maxcount` 3, checked every second.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { basic } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startReplicas, type Replica, type ReplicaOptions, type ReplicaSet } from './replicas.js';

const admin = basic('admin', 'admin');
const RETENTION: ReplicaOptions = { env: { FLOW_RETENTION_MAXCOUNT: '3', FLOW_RETENTION_INTERVALSECONDS: '1', FLOW_LOG_LEVEL: 'debug' } };

let c: ReplicaSet | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

/** r1 alone with an application, then `more` replicas with the same options. */
async function clusterWithApp(more: number, opts: (i: number) => ReplicaOptions = () => RETENTION): Promise<{ app: any; replicas: Replica[] }> {
  c = await startReplicas(1, opts(0));
  const app = await c.replicas[0]!.createApp({ name: 'alerts' });
  for (let i = 1; i <= more; i++) await c.add(opts(i));
  return { app, replicas: c.replicas };
}

const role = async (r: Replica): Promise<string> => (await r.api('GET', '/health')).body.replica.role;
const leaderRow = async () => (await c!.sql<{ holder: string; token: number; live: boolean }>("SELECT holder, token::int, expires_at > now() AS live FROM leases WHERE name = 'leader'"))[0];

/** Waits until exactly one of `rs` says it leads (and the lease table agrees); returns it. */
async function theLeader(rs: Replica[]): Promise<Replica> {
  return waitFor(async () => {
    const roles = await Promise.all(rs.map(role));
    if (roles.filter((x) => x === 'leader').length !== 1) return undefined;
    const leader = rs[roles.indexOf('leader')]!;
    const row = await leaderRow();
    return row?.holder === (await leader.id()) && leader;
  }, 'exactly one leader', 30_000);
}

const visible = async (r: Replica, appId: number): Promise<string[]> =>
  (await r.api('GET', `/application/${appId}/message?limit=100`, { auth: admin })).body.messages.map((m: { message: string }) => m.message);

async function post(r: Replica, token: string, texts: string[]): Promise<void> {
  for (const message of texts) expect((await r.api('POST', '/message', { token, json: { message } })).status).toBe(200);
}

/** The retention marks a replica's log says it raised (server/src/services/retention.ts, debug). */
const retentionLines = (r: Replica, since = 0) => r.logs.filter((l) => l.msg === 'retention deleted messages' && l.time >= since);

describe('the leader lease', () => {
  it('one replica leads; /health names each replica and its role; the lease table agrees', async () => {
    const { replicas } = await clusterWithApp(2);
    const leader = await theLeader(replicas);
    for (const r of replicas) {
      const h = (await r.api('GET', '/health')).body;
      expect(h).toEqual({ health: 'green', database: 'green', replica: { id: await r.id(), name: r.name, role: r === leader ? 'leader' : 'follower' } });
    }
  });

  it('retention runs on the leader only, moves to another replica when the leader is SIGKILLed, and never runs twice', async () => {
    const { app, replicas } = await clusterWithApp(2);
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    const first = await theLeader(replicas);
    expect(first).toBe(r1);
    await post(r2, app.token, ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    await waitFor(async () => (await visible(r3, app.id)).length === 3, 'retention to keep the newest 3');
    expect(await visible(r2, app.id)).toEqual(['a6', 'a5', 'a4']);
    await waitFor(() => retentionLines(r1).length > 0, 'the leader to log its retention mark');
    expect(retentionLines(r2)).toEqual([]);
    expect(retentionLines(r3)).toEqual([]);

    const oldToken = (await leaderRow())!.token;
    await r1.kill();
    const next = await theLeader([r2, r3]);
    const other = next === r2 ? r3 : r2;
    expect((await leaderRow())!.token).toBeGreaterThan(oldToken);
    await post(other, app.token, ['b1', 'b2', 'b3', 'b4']);
    await waitFor(async () => (await visible(other, app.id)).join() === 'b4,b3,b2', 'retention enforced by the new leader');
    await waitFor(() => retentionLines(next).length > 0, 'the new leader to log its retention mark');
    expect(retentionLines(other)).toEqual([]);
    // Every mark raised once, by one replica: no upTo appears twice across the replicas' logs.
    const marks = [...retentionLines(r1), ...retentionLines(next)].map((l) => `${l.appId}:${l.upTo}`);
    expect(new Set(marks).size).toBe(marks.length);
  });

  it('a paused leader (SIGSTOP) loses the lease to another replica and, resumed (SIGCONT), acts no more', async () => {
    const { app, replicas } = await clusterWithApp(1);
    const [r1, r2] = replicas as [Replica, Replica];
    expect(await theLeader(replicas)).toBe(r1);
    const oldToken = (await leaderRow())!.token;
    r1.signal('SIGSTOP');
    try {
      // r1 cannot renew: its lease expires by the database clock and r2 takes it.
      await waitFor(async () => (await role(r2)) === 'leader', 'r2 to take the lease from the paused r1', 30_000);
      expect(await leaderRow()).toMatchObject({ holder: await r2.id(), live: true });
      await post(r2, app.token, ['c1', 'c2', 'c3', 'c4', 'c5']);
      await waitFor(async () => (await visible(r2, app.id)).join() === 'c5,c4,c3', 'r2 to enforce retention');
    } finally {
      r1.signal('SIGCONT');
    }
    const resumedAt = Date.now();
    // Resumed, r1 sees its deadline passed and steps down; its next renewal finds the lease gone.
    await r1.waitForLog((l) => l.msg === 'this replica is a follower' && l.time >= resumedAt - 1000, 'r1 to step down');
    await waitFor(async () => (await role(r1)) === 'follower', 'r1 to report itself a follower');
    // Work for a leader after the resume: r1's retention timer fires every second; r2 keeps enforcing.
    await post(r1, app.token, ['d1', 'd2', 'd3', 'd4']);
    await waitFor(async () => (await visible(r1, app.id)).join() === 'd4,d3,d2', 'retention enforced (by r2)');
    await waitFor(() => retentionLines(r2, resumedAt).length > 0, 'r2 to log the mark');
    expect(retentionLines(r1, resumedAt)).toEqual([]);
    expect(await leaderRow()).toMatchObject({ holder: await r2.id(), live: true });
    expect((await leaderRow())!.token).toBeGreaterThan(oldToken);
    expect(await role(r2)).toBe('leader');
  });

  it('a clean stop releases the lease at once, and a follower takes it', async () => {
    const { replicas } = await clusterWithApp(1);
    const [r1, r2] = replicas as [Replica, Replica];
    expect(await theLeader(replicas)).toBe(r1);
    const id1 = await r1.id();
    expect(await r1.stop()).toBe(0);
    // No live lease of r1 remains the moment it exited (else r2 would wait for its expiry).
    const row = await leaderRow();
    expect(row === undefined || row.holder !== id1).toBe(true);
    expect(await theLeader([r2])).toBe(r2);
  });

  it('wall clocks an hour off do not move the lease: the leader keeps it through many renewals, a skewed replica takes over only when it dies', async () => {
    const HOUR = 3_600_000;
    const { app, replicas } = await clusterWithApp(2, (i) => ({ ...RETENTION, skewMs: [0, HOUR, -HOUR][i] }));
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    // The skew is real: r2's message dates run an hour ahead.
    await post(r2, app.token, ['skewed']);
    const dated = (await r2.api('GET', `/application/${app.id}/message?limit=1`, { auth: admin })).body.messages[0];
    expect(Date.parse(dated.date) - Date.now()).toBeGreaterThan(HOUR - 60_000);

    expect(await theLeader(replicas)).toBe(r1);
    const before = (await c!.sql<{ token: number; expires: Date }>("SELECT token::int, expires_at AS expires FROM leases WHERE name = 'leader'"))[0]!;
    // Witness of time passing: r1 renews several times (the expiry moves 4 s on) while the
    // replica an hour ahead never sees the lease as expired and the one an hour behind never keeps a stale view.
    await waitFor(async () => {
      const now = (await c!.sql<{ expires: Date }>("SELECT expires_at AS expires FROM leases WHERE name = 'leader'"))[0]!;
      return now.expires.getTime() - before.expires.getTime() > 4_000;
    }, 'four renewals by r1', 30_000);
    expect((await leaderRow())!.token).toBe(before.token);
    expect([await role(r1), await role(r2), await role(r3)]).toEqual(['leader', 'follower', 'follower']);
    // All three are alive in the registry (heartbeats by the database clock).
    expect((await c!.sql("SELECT count(*)::int AS n FROM replicas WHERE heartbeat_at > now() - ttl_ms * interval '1 millisecond'"))[0].n).toBe(3);

    await r1.kill();
    const next = await theLeader([r2, r3]);
    const taken = (await leaderRow())!.token;
    // The skewed leader keeps its lease through renewals too, and runs retention.
    const held = (await c!.sql<{ expires: Date }>("SELECT expires_at AS expires FROM leases WHERE name = 'leader'"))[0]!;
    await waitFor(async () => (await c!.sql<{ expires: Date }>("SELECT expires_at AS expires FROM leases WHERE name = 'leader'"))[0]!.expires.getTime() - held.expires.getTime() > 4_000, 'four renewals by the skewed leader', 30_000);
    expect((await leaderRow())!.token).toBe(taken);
    await post(next, app.token, ['e1', 'e2', 'e3', 'e4']);
    await waitFor(async () => (await visible(next, app.id)).join() === 'e4,e3,e2', 'retention by the skewed leader');
  });
});
