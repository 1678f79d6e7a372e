import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { Db } from './db.js';
import { pad, put } from './ops.js';
import { LevelStore } from './level-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flow-ids-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function raw<T>(fn: (level: Level<string, string>) => Promise<T>): Promise<T> {
  const level = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await level.open();
  try {
    return await fn(level);
  } finally {
    await level.close();
  }
}

describe('id sequences', () => {
  it('start above the highest stored record of each entity, even when the persisted sequence is lower', async () => {
    // What concurrent batches committed out of order used to leave behind: seq 5, record 10.
    await raw(async (level) => {
      await level.batch([
        { type: 'put', key: 'meta!seq!message', value: '5' },
        { type: 'put', key: 'm!' + pad(10), value: JSON.stringify({ id: 10, appId: 1, userId: 1, message: 'x', title: '', priority: 0, date: '' }) },
        { type: 'put', key: 'u!' + pad(7), value: JSON.stringify({ id: 7, name: 'x', passHash: 'h', admin: true }) },
        { type: 'put', key: 'u-name!x', value: '7' },
      ]);
    });
    const db = await Db.open(dir);
    expect(db.nextId('message').id).toBe(11);
    expect(db.nextId('user').id).toBe(8);
    expect(db.nextId('client').id).toBe(1);
    await db.close();
  });

  it('persist a sequence never below a committed id when thousands of batches run at once, so a deleted newest id is not reused', async () => {
    const db = await Db.open(dir);
    const ids: number[] = [];
    await Promise.all(
      Array.from({ length: 3000 }, () => {
        const { id, op } = db.nextId('message');
        ids.push(id);
        return db.batch([op, put('m!' + pad(id), { id })]);
      }),
    );
    const max = Math.max(...ids);
    // Delete the newest record: only the sequence remembers its id now.
    await db.batch([{ type: 'del', key: 'm!' + pad(max) }]);
    await db.close();
    // The persisted value is the end of a reserved (synced) block: at least every id handed out.
    expect(Number(await raw((l) => l.get('meta!seq!message')))).toBeGreaterThanOrEqual(max);
    const again = await Db.open(dir);
    expect(again.nextId('message').id).toBeGreaterThan(max);
    await again.close();
  });

  it('commit batches in submission order: the last value written for a key is the last one submitted', async () => {
    const db = await Db.open(dir);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => db.batch([{ type: 'put', key: 'k', value: String(i) }])));
    expect(await db.getRaw('k')).toBe('1999');
    await db.close();
  });

  it('keep message ids strictly increasing across a stop in the middle of concurrent sends', async () => {
    let store = await LevelStore.open(dir);
    const user = await store.users.create({ name: 'u', passHash: 'h', admin: true });
    const app = await store.applications.create({ userId: user.id, token: 'A', name: 'a', description: '', internal: false, image: '', defaultPriority: 0, lastUsed: null, sortKey: '' });
    const acked: number[] = [];
    const sends = Array.from({ length: 500 }, () =>
      store.applications.addMessage({ appId: app.id, userId: user.id, message: 'm', title: '', priority: 0, date: '' }).then(
        (m) => acked.push(m.id),
        () => undefined,
      ),
    );
    await store.close();
    await Promise.all(sends);
    store = await LevelStore.open(dir);
    const listed = (await store.messages.listByUser(user.id, 1000)).map((m) => m.id);
    expect(listed.sort((a, b) => a - b)).toEqual([...acked].sort((a, b) => a - b));
    const next = await store.applications.addMessage({ appId: app.id, userId: user.id, message: 'after', title: '', priority: 0, date: '' });
    expect(next.id).toBeGreaterThan(Math.max(0, ...acked));
    await store.close();
  });
});
