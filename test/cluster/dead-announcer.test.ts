/**
 * A replica SIGKILLed between a message's commit and its announcement (issue 19): its
 * notification never comes, and no LISTEN reconnect happens on the survivors to trigger a
 * catch-up. The survivors' feed sweeps for such messages (cluster/notify-feed.ts, SWEEP_MS), so
 * every message stored reaches the user's stream on the other replica anyway, once. The window
 * is made by posting a burst on r1 and SIGKILLing it the moment the first answer arrives: the
 * rest of the burst is committed, answered or not, and partly unannounced. Repeated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startReplicas, type Replica, type ReplicaSet } from './replicas.js';

const ROUNDS = 3;
const BURST = 30;

describe('a replica killed before announcing its messages', () => {
  let c: ReplicaSet;
  let r1: Replica;
  let r2: Replica;
  let appToken: string;
  let clientToken: string;
  let userId: number;

  beforeAll(async () => {
    c = await startReplicas(2);
    [r1, r2] = c.replicas as [Replica, Replica];
    appToken = (await r1.createApp({ name: 'burst' })).token;
    clientToken = (await r1.createClient('phone')).token;
    userId = (await r1.api('GET', '/current/user', { token: clientToken })).body.id;
    await waitFor(async () => (await r2.api('GET', '/current/user', { token: clientToken })).status === 200, 'the client on r2');
  }, 180_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('every message it committed reaches the stream on the survivor, once', async () => {
    const stream = await r2.openStream(clientToken);
    for (let round = 0; round < ROUNDS; round++) {
      const posts = Array.from({ length: BURST }, (_, i) =>
        fetch(`${r1.url}/message`, { method: 'POST', headers: { 'X-Gotify-Key': appToken, 'Content-Type': 'application/json' }, body: JSON.stringify({ message: `round ${round} #${i}` }) }),
      );
      // The first answer: the burst is being committed and announced right now.
      await Promise.any(posts);
      r1.proc.kill('SIGKILL');
      await Promise.allSettled(posts);
      await r1.kill();
      await r1.restart();
    }
    const stored = (await c.sql<{ id: number }>('SELECT id FROM messages WHERE user_id = $1 ORDER BY id', [userId])).map((r) => Number(r.id));
    expect(stored.length).toBeGreaterThan(0);
    const got = await waitFor(() => {
      const ids = new Set(stream.messages.map((m) => m.id as number));
      return stored.every((id) => ids.has(id)) && stream.messages.map((m) => m.id as number);
    }, `the ${stored.length} stored messages on r2's stream`, 30_000);
    expect([...got].sort((a, b) => a - b)).toEqual(stored);
    stream.close();
  });
});
