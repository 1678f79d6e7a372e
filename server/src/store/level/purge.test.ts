import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LevelStore } from './level-store.js';
import type { MessageRecord } from '../../model/message.js';

// Bulk deletes are a purge mark (one batch) followed by chunks removed in the background. A
// crash can happen between any two batches; here the purger is driven by hand (`step()`), the
// store is closed after k steps as a crash would leave it (every committed batch, nothing of
// the next), reopened, and checked: the API view is exactly "after the delete" at every k, every
// message has both index keys and every index key its message, and recovery finishes the job.

const CHUNK = 4;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Seeded {
  users: { a: number; b: number };
  apps: { a1: number; a2: number; b1: number };
  msgs: MessageRecord[];
}

async function seed(store: LevelStore): Promise<Seeded> {
  const a = await store.users.create({ name: 'a', passHash: 'h', admin: false });
  const b = await store.users.create({ name: 'b', passHash: 'h', admin: false });
  const app = (userId: number, name: string) =>
    store.applications.create({ userId, token: 'A' + name, name, description: '', internal: false, image: '', defaultPriority: 0, lastUsed: null, sortKey: '' });
  const a1 = await app(a.id, 'a1');
  const a2 = await app(a.id, 'a2');
  const b1 = await app(b.id, 'b1');
  const msgs: MessageRecord[] = [];
  // Interleaved, so a user's index mixes applications.
  const order = [a1, a1, a2, b1, a1, a2, a1, b1, a1, a1, a2, b1, a1, a2, a1, a1, b1, a2, a1, b1, a2, a2];
  for (const [i, ap] of order.entries()) {
    msgs.push(await store.applications.addMessage({ appId: ap.id, userId: ap.userId, message: 'm' + i, title: '', priority: 0, date: new Date(1e12 + i).toISOString() }));
  }
  return { users: { a: a.id, b: b.id }, apps: { a1: a1.id, a2: a2.id, b1: b1.id }, msgs };
}

type Kind = 'messages of a user' | 'messages of an application' | 'application' | 'user' | 'retention (newest 3 of an application)';

/** Runs the delete; returns the ids that must stay visible. */
async function runDelete(store: LevelStore, s: Seeded, kind: Kind): Promise<number[]> {
  const ids = (pred: (m: MessageRecord) => boolean) => s.msgs.filter(pred).map((m) => m.id);
  switch (kind) {
    case 'messages of a user':
      await store.messages.deleteByUser(s.users.a);
      return ids((m) => m.userId !== s.users.a);
    case 'messages of an application':
      await store.messages.deleteByApplication(s.apps.a1, s.users.a);
      return ids((m) => m.appId !== s.apps.a1);
    case 'application':
      await store.applications.delete(s.apps.a1);
      return ids((m) => m.appId !== s.apps.a1);
    case 'user':
      await store.users.delete(s.users.a);
      return ids((m) => m.userId !== s.users.a);
    case 'retention (newest 3 of an application)': {
      const cut = await store.messages.idAtRank(s.apps.a1, s.users.a, 4);
      await store.messages.deleteApplicationUpTo(s.apps.a1, s.users.a, cut);
      const a1 = ids((m) => m.appId === s.apps.a1);
      return ids((m) => m.appId !== s.apps.a1 || a1.slice(-3).includes(m.id));
    }
  }
}

/** Every record has both index keys and every index key its record. */
async function checkIndexes(store: LevelStore): Promise<void> {
  const keys = new Set(await store.db.level.keys().all());
  for (const k of keys) {
    if (k.startsWith('m!')) {
      const m = JSON.parse((await store.db.level.get(k))!) as MessageRecord;
      const pad = (n: number) => String(n).padStart(16, '0');
      expect(keys.has(`a-m!${pad(m.appId)}!${pad(m.id)}`), `a-m index of ${k}`).toBe(true);
      expect(keys.has(`u-m!${pad(m.userId)}!${pad(m.id)}`), `u-m index of ${k}`).toBe(true);
    } else if (k.startsWith('a-m!') || k.startsWith('u-m!')) {
      expect(keys.has('m!' + k.slice(k.lastIndexOf('!') + 1)), `record of ${k}`).toBe(true);
    }
  }
}

/** What the API reads: per user and per application listings (also paged) and single gets. */
async function checkView(store: LevelStore, s: Seeded, visible: number[]): Promise<void> {
  const desc = [...visible].sort((x, y) => y - x);
  const of = (pred: (m: MessageRecord) => boolean) => desc.filter((id) => pred(s.msgs.find((m) => m.id === id)!));
  for (const u of [s.users.a, s.users.b]) {
    expect((await store.messages.listByUser(u, 100)).map((m) => m.id)).toEqual(of((m) => m.userId === u));
    // Paging in steps of 2 sees the same sequence.
    const paged: number[] = [];
    let since = 0;
    for (;;) {
      const page = await store.messages.listByUser(u, 2, since);
      if (page.length === 0) break;
      paged.push(...page.map((m) => m.id));
      since = page[page.length - 1]!.id;
    }
    expect(paged).toEqual(of((m) => m.userId === u));
  }
  for (const [appId, userId] of [[s.apps.a1, s.users.a], [s.apps.a2, s.users.a], [s.apps.b1, s.users.b]] as const) {
    expect((await store.messages.listByApplication(appId, userId, 100)).map((m) => m.id)).toEqual(of((m) => m.appId === appId));
  }
  for (const m of s.msgs) expect((await store.messages.get(m.id))?.id, `get(${m.id})`).toBe(visible.includes(m.id) ? m.id : undefined);
}

async function fresh(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-purge-'));
  dirs.push(dir);
  return dir;
}

const kinds: Kind[] = ['messages of a user', 'messages of an application', 'application', 'user', 'retention (newest 3 of an application)'];

describe.each(kinds)('a chunked delete of the %s', (kind) => {
  it('is atomic from the API view and index-consistent after a crash at every chunk boundary, and recovery completes it', async () => {
    // An uninterrupted run first, to count the steps.
    let steps = 0;
    {
      const store = await LevelStore.open(await fresh(), { purge: { autoStart: false, chunkSize: CHUNK } });
      const s = await seed(store);
      await runDelete(store, s, kind);
      while (await store.messages.purger.step()) steps++;
      await store.close();
    }
    expect(steps).toBeGreaterThan(1);

    for (let k = 0; k <= steps; k++) {
      const dir = await fresh();
      let store = await LevelStore.open(dir, { purge: { autoStart: false, chunkSize: CHUNK } });
      const s = await seed(store);
      const visible = await runDelete(store, s, kind);
      await checkView(store, s, visible);
      for (let i = 0; i < k; i++) expect(await store.messages.purger.step()).toBe(true);
      await store.close(); // the crash: everything committed so far, nothing more

      store = await LevelStore.open(dir, { purge: { autoStart: false, chunkSize: CHUNK } });
      await checkIndexes(store);
      await checkView(store, s, visible);
      await store.close();

      // Recovery: a normal open resumes the purge in the background.
      store = await LevelStore.open(dir, { purge: { chunkSize: CHUNK } });
      await store.messages.purger.idle();
      await checkIndexes(store);
      await checkView(store, s, visible);
      const left = (await store.db.level.keys().all()).filter((key) => /^(m!|a-m!|u-m!)/.test(key)).map((key) => Number(key.slice(key.lastIndexOf('!') + 1)));
      expect(new Set(left)).toEqual(new Set(visible));
      expect((await store.db.level.keys().all()).filter((key) => key.startsWith('m-purge!'))).toEqual([]);
      await store.close();
    }
  });
});

describe('a delete of what is already being deleted', () => {
  it('writes no new mark and does no second pass', async () => {
    const store = await LevelStore.open(await fresh(), { purge: { autoStart: false, chunkSize: CHUNK } });
    const s = await seed(store);
    expect(await store.messages.deleteByUser(s.users.a)).toBe(true);
    expect(await store.messages.deleteByUser(s.users.a)).toBe(false);
    expect(await store.messages.deleteByApplication(s.apps.a1, s.users.a)).toBe(false);
    expect(store.messages.marks.size).toBe(1);
    // A message posted after the delete is not part of it: a new delete covers it.
    const late = await store.applications.addMessage({ appId: s.apps.a1, userId: s.users.a, message: 'late', title: '', priority: 0, date: '' });
    expect((await store.messages.listByUser(s.users.a, 10)).map((m) => m.id)).toEqual([late.id]);
    expect(await store.messages.deleteByUser(s.users.a)).toBe(true);
    expect(await store.messages.listByUser(s.users.a, 10)).toEqual([]);
    await store.close();
  });
});
