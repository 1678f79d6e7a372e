/**
 * Plugin instances across three replicas on one PostgreSQL (issue 19): each instance runs on the
 * one replica holding its lease; a webhook, display or enable sent to any replica reaches it; when
 * its replica is SIGKILLed it moves and keeps its storage; when its replica is paused past its
 * lease, the ticks the plugin sent meanwhile are refused on resume. The ticker fixture ticks every
 * 200 ms as "tick <seq> <pid>" (seq from its kv storage): one instance at a time shows as one
 * unbroken run of ticks per plugin process with growing sequence numbers.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { CLUSTER_SECRET, startReplicas, type Replica, type ReplicaSet } from './replicas.js';
import { ADMIN, assertOneAtATime, hook, moreTicks, ownerOf, tickerConf, tickerDir, ticks } from './plugin-ticker.js';

describe('plugin instances across replicas', () => {
  let c: ReplicaSet;
  let dir: string;
  let conf: { id: number; token: string };

  beforeAll(async () => {
    dir = await tickerDir();
    c = await startReplicas(3, { env: { FLOW_PLUGINSDIR: dir } });
    conf = await tickerConf(c.replicas[0]!);
  });
  afterAll(async () => {
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const live = () => c.replicas.filter((r) => r.running);

  it('enable, webhooks and display sent to every replica reach the one instance; the internal endpoint needs the secret', async () => {
    const owner = await ownerOf(c, conf.id);
    const other = c.replicas.find((r) => r !== owner)!;
    // Enabled through a replica that does not hold it: relayed to the owner.
    const enabled = await other.api('POST', `/plugin/${conf.id}/enable`, { auth: ADMIN });
    expect(enabled.status, enabled.text).toBe(200);
    expect((await other.api('POST', `/plugin/${conf.id}/enable`, { auth: ADMIN })).status).toBe(400);

    const stored = await hook(c.replicas[2]!, conf, 'POST', 'kept in the database', { 'x-test': 'relayed' });
    expect(stored.status, stored.text).toBe(200);
    const answers = await Promise.all(c.replicas.map((r) => hook(r, conf, 'GET', undefined, { 'x-test': 'relayed' })));
    for (const a of answers) expect(a.status, a.text).toBe(200);
    const pids = new Set(answers.map((a) => a.body.pid));
    expect(pids.size).toBe(1);
    for (const a of answers) {
      expect(a.body).toMatchObject({ path: '/who', query: 'x=1', note: 'kept in the database', remoteAddress: '127.0.0.1' });
      expect(a.body.headers['x-test']).toBe('relayed');
      // Nothing of the relay reaches the plugin: no secret, no relay headers.
      expect(Object.keys(a.body.headers).filter((h) => h.startsWith('x-flow-cluster'))).toEqual([]);
    }
    // The ticks come from that one process.
    const seen = await moreTicks(owner, 0, 3);
    expect(new Set(seen.map((t) => t.pid))).toEqual(pids);

    const unauthenticated = await other.api('GET', `/internal/cluster/relay/plugin/${conf.id}/display`, { auth: ADMIN });
    expect(unauthenticated.status).toBe(401);
    const wrong = await other.api('GET', `/internal/cluster/relay/plugin/${conf.id}/display`, { auth: ADMIN, headers: { 'x-flow-cluster-secret': CLUSTER_SECRET + 'x' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ errorCode: 401 });
  });

  it('owner SIGKILLed with a relayed webhook in flight: that caller gets a 503; the instance moves to another replica, keeps its storage and never ticks twice', async () => {
    const owner = await ownerOf(c, conf.id);
    const survivor = c.replicas.find((r) => r !== owner && r.running)!;
    const before = await moreTicks(survivor, 0, 3);
    const oldPid = before[before.length - 1]!.pid;
    // A webhook relayed to the owner and in flight there when it dies: the caller gets a 503.
    const inFlight = survivor.api('GET', `/plugin/${conf.id}/custom/${conf.token}/slow`);
    await owner.waitForLog((l) => l.fromPlugin && l.msg === 'slow webhook in flight', 'the slow webhook to reach the owner');
    await owner.kill();
    const cut = await inFlight;
    expect(cut.status).toBe(503);
    expect(cut.body).toMatchObject({ error: 'Service Unavailable', errorCode: 503 });
    const next = await ownerOf(c, conf.id, owner);
    expect(next).not.toBe(owner);
    // Any live replica answers the webhook from the new owner's process, with the note kept.
    const answered = await waitFor(async () => {
      const res = await hook(survivor, conf);
      return res.status === 200 && res.body.pid !== oldPid && res;
    }, 'the webhook answered by the new owner', 60_000);
    expect(answered.body.note).toBe('kept in the database');
    const after = await moreTicks(next, before[before.length - 1]!.id, 5, oldPid);
    assertOneAtATime(after);
    // The sequence continued from the stored counter, not from 1.
    const resumed = after.find((t) => t.pid !== oldPid)!;
    expect(resumed.seq).toBeGreaterThan(before[before.length - 1]!.seq);
    await owner.restart();
  });

  it('owner paused past its lease: on resume it sends nothing for the instance and stops it', async () => {
    const owner = await ownerOf(c, conf.id);
    const observer = live().find((r) => r !== owner)!;
    const before = await moreTicks(observer, 0, 2);
    const pausedPid = before[before.length - 1]!.pid;
    owner.signal('SIGSTOP');
    let resumed = false;
    try {
      const next = await ownerOf(c, conf.id, owner);
      const taken = await moreTicks(next, before[before.length - 1]!.id, 3, pausedPid);
      owner.signal('SIGCONT');
      resumed = true;
      // The resumed replica finds its lease gone and stops the instance on its plugin process.
      await owner.waitForLog((l) => l.msg?.startsWith('lost the lease of a plugin instance') && l.instanceId === conf.id, 'the lost lease noticed', 60_000);
      const lastTaken = taken[taken.length - 1]!;
      const after = await moreTicks(next, lastTaken.id, 5, pausedPid);
      assertOneAtATime(after);
      expect(after.filter((t) => t.id > lastTaken.id && t.pid === pausedPid)).toEqual([]);
    } finally {
      if (!resumed) owner.signal('SIGCONT');
    }
  });
});
