/**
 * Replicas as processes (test/cluster/replicas.ts): the real `flow` bin several times on one
 * PostgreSQL database. Each registers itself with its name and advertise URL, a clean stop
 * removes its row at once, a SIGKILLed one is dead once its heartbeat is older than its ttl (by
 * the database clock), and a restart is a new replica.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { CLUSTER_SECRET, startReplicas, type ReplicaSet } from './replicas.js';

describe('replicas on one PostgreSQL', () => {
  let c: ReplicaSet;
  beforeAll(async () => {
    c = await startReplicas(3);
  });
  afterAll(async () => {
    await c?.stop();
  });

  const registry = () => c.sql<{ id: string; name: string; advertise_url: string; alive: boolean }>("SELECT id, name, advertise_url, heartbeat_at > now() - ttl_ms * interval '1 millisecond' AS alive FROM replicas ORDER BY name");

  it('registers every replica with its name, id and advertise URL', async () => {
    const [r1, r2, r3] = c.replicas;
    const rows = await waitFor(async () => {
      const rs = await registry();
      return rs.length === 3 && rs.every((r) => r.advertise_url !== null) && rs;
    }, 'three replicas with advertise URLs');
    expect(rows.map((r) => [r.name, r.advertise_url, r.alive])).toEqual([
      ['r1', r1!.url, true],
      ['r2', r2!.url, true],
      ['r3', r3!.url, true],
    ]);
    expect(rows.map((r) => r.id)).toEqual([await r1!.id(), await r2!.id(), await r3!.id()]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
  });

  it('a clean stop removes the row at once; a SIGKILLed replica turns dead by its ttl; a restart is a new replica', async () => {
    const [, r2, r3] = c.replicas;
    const id2 = await r2!.id();
    const id3 = await r3!.id();
    expect(await r2!.stop()).toBe(0);
    expect((await registry()).map((r) => r.id)).not.toContain(id2);

    await r3!.kill();
    // The row stays until its heartbeat is older than its ttl, then counts as dead.
    expect((await registry()).find((r) => r.id === id3)?.alive).toBe(true);
    await waitFor(async () => (await registry()).find((r) => r.id === id3)?.alive === false, 'the killed replica to be dead by its heartbeat', 30_000);

    await r3!.restart();
    const newId = await r3!.id();
    expect(newId).not.toBe(id3);
    const rows = await waitFor(async () => {
      const rs = await registry();
      return rs.some((r) => r.id === newId && r.advertise_url === r3!.url) && rs;
    }, 'the restarted replica in the registry');
    expect(rows.find((r) => r.id === newId)).toMatchObject({ name: 'r3', alive: true });
    await r2!.restart();
    // Through starts, stops, kills and restarts, the shared secret never reached a log line.
    for (const r of c.replicas) expect(JSON.stringify(r.logs)).not.toContain(CLUSTER_SECRET);
  });
});

describe('replicas without cluster.secret', () => {
  it('say so in an error line once a second replica is seen', async () => {
    const c = await startReplicas(2, { env: { FLOW_CLUSTER_SECRET: '' } });
    try {
      const line = await c.replicas[0]!.waitForLog((l) => /cluster\.secret is empty/.test(l.msg ?? ''), 'the missing-secret error');
      expect(line.level).toBe(50);
      expect(line.msg).toMatch(/several Flow replicas run on this database/);
    } finally {
      await c.stop();
    }
  });
});
