/**
 * A subscriber plugin's instance runs on one replica, yet is offered every message of its user,
 * whichever replica stored it (issue 19): the owner reads other replicas' messages for the users
 * of its enabled subscriber instances, as it does for its /stream clients. The ticker fixture
 * keeps the texts it was offered and answers them on its webhook.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startReplicas, type ReplicaSet } from './replicas.js';
import { ADMIN, hook, ownerOf, tickerConf, tickerDir } from './plugin-ticker.js';

describe('a subscriber instance across replicas', () => {
  let c: ReplicaSet;
  let dir: string;

  beforeAll(async () => {
    dir = await tickerDir();
    c = await startReplicas(2, { env: { FLOW_PLUGINSDIR: dir } });
  });
  afterAll(async () => {
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is offered the messages posted on the replica that does not run it, and those posted on its own, once each', async () => {
    const conf = await tickerConf(c.replicas[0]!);
    expect((await c.replicas[0]!.api('POST', `/plugin/${conf.id}/enable`, { auth: ADMIN })).status).toBe(200);
    const owner = await ownerOf(c, conf.id);
    const other = c.replicas.find((r) => r !== owner)!;
    const app = await other.createApp({ name: 'alerts' });
    for (const [replica, text] of [
      [other, 'posted on the other replica'],
      [owner, 'posted on the owner'],
      [other, 'posted on the other replica again'],
    ] as const) {
      const res = await replica.api('POST', '/message', { token: app.token, json: { message: text } });
      expect(res.status, res.text).toBe(200);
    }
    // A last one from the other replica: once it is in, anything doubled before it would be too.
    expect((await other.api('POST', '/message', { token: app.token, json: { message: 'posted last' } })).status).toBe(200);
    const received = await waitFor(async () => {
      const res = await hook(owner, conf);
      return res.status === 200 && (res.body.received as string[]).includes('posted last') && (res.body.received as string[]);
    }, 'the subscriber to be offered the last message', 30_000);
    expect(received.filter((t) => t.startsWith('posted')).sort()).toEqual(['posted last', 'posted on the other replica', 'posted on the other replica again', 'posted on the owner']);
    // Only the user's messages from other applications: the plugin's own ticks are not offered back.
    expect(received.filter((t) => !t.startsWith('posted'))).toEqual([]);
  });
});
