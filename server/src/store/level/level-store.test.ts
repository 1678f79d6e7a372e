import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openTempLevelStore, removeTempLevelStore } from '../../../../test/helpers/temp-level-store.js';
import { LevelStore } from './level-store.js';

let dir: string;
let store: LevelStore;
beforeEach(async () => {
  ({ dir, store } = await openTempLevelStore('flow-store-'));
});
afterEach(() => removeTempLevelStore(store, dir));

async function allKeys(s: LevelStore): Promise<string[]> {
  return s.db.level.keys().all();
}

async function seedUser(name: string) {
  const user = await store.users.create({ name, passHash: 'h', admin: false });
  const app = await store.applications.create({
    userId: user.id, token: 'A' + name, name, description: '', internal: false, image: '', defaultPriority: 0, lastUsed: null, sortKey: '',
  });
  const client = await store.clients.create({ userId: user.id, token: 'C' + name, name, lastUsed: null });
  const msg = await store.applications.addMessage({ appId: app.id, userId: user.id, message: 'm', title: 't', priority: 0, date: new Date().toISOString() });
  const conf = await store.pluginConfs.create({ userId: user.id, modulePath: 'mod/' + name, token: 'P' + name, applicationId: app.id, config: 'a: 1\n' });
  await store.pluginConfs.kvSet(conf.id, 'k', { v: 1 });
  await store.pluginConfs.setStorage(conf.id, Buffer.from('blob'));
  return { user, app, client, msg, conf };
}

describe('LevelUserStore.delete', () => {
  it('removes the user and everything it owns in one batch (messages: a purge mark), leaving no key behind once purged', async () => {
    const keep = await seedUser('keep');
    const before = await allKeys(store);
    const gone = await seedUser('gone');
    const batch = vi.spyOn(store.db.level, 'batch');
    await store.users.delete(gone.user.id);
    const first = (batch.mock.calls[0] as unknown as [{ key: string }[]])[0].map((op) => op.key);
    batch.mockRestore();
    expect(first).toContain('u!' + String(gone.user.id).padStart(16, '0'));
    expect(first.filter((k) => k.startsWith('m-purge!'))).toHaveLength(1);
    expect(first.filter((k) => k.startsWith('m!'))).toEqual([]);
    expect(await store.messages.get(gone.msg.id)).toBeUndefined();
    await store.messages.purger.idle();
    // Only sequence counters differ from the state before `gone` existed.
    const after = (await allKeys(store)).filter((k) => !k.startsWith('meta!'));
    expect(after).toEqual(before.filter((k) => !k.startsWith('meta!')));
    expect(store.applications.getByToken('Agone')).toBeUndefined();
    expect(store.clients.getByToken('Cgone')).toBeUndefined();
    expect(store.pluginConfs.getByToken('Pgone')).toBeUndefined();
    expect(store.users.getByName('keep')?.id).toBe(keep.user.id);
    expect(await store.pluginConfs.kvGet(keep.conf.id, 'k')).toEqual({ v: 1 });
  });

  it('leaves everything in place when the check vetoes', async () => {
    const s = await seedUser('veto');
    const before = await allKeys(store);
    await expect(store.users.delete(s.user.id, () => { throw new Error('no'); })).rejects.toThrow('no');
    expect(await allKeys(store)).toEqual(before);
    expect(store.applications.acceptsMessages(s.app.id)).toBe(true);
  });
});

describe('LevelApplicationStore.delete', () => {
  it('never leaves a message of a deleted application, even with inserts racing the delete', async () => {
    const s = await seedUser('race');
    const inserts = Array.from({ length: 200 }, (_, i) =>
      store.applications
        .addMessage({ appId: s.app.id, userId: s.user.id, message: 'm' + i, title: '', priority: 0, date: new Date().toISOString() })
        .then(() => 'ok', (e: Error) => e.message),
    );
    const del = store.applications.delete(s.app.id);
    const more = Array.from({ length: 50 }, () =>
      store.applications
        .addMessage({ appId: s.app.id, userId: s.user.id, message: 'late', title: '', priority: 0, date: new Date().toISOString() })
        .then(() => 'ok', (e: Error) => e.message),
    );
    await del;
    const results = await Promise.all([...inserts, ...more]);
    await store.messages.purger.idle();
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'application does not exist')).toBe(true);
    const keys = await allKeys(store);
    expect(keys.filter((k) => k.startsWith('m!') || k.startsWith('a-m!') || k.startsWith('u-m!'))).toEqual([]);
  });
});

describe('LevelMessageStore', () => {
  it('lists newest first per user and per application with since', async () => {
    const s = await seedUser('list');
    const ids = [s.msg.id];
    for (let i = 0; i < 4; i++) {
      ids.push((await store.applications.addMessage({ appId: s.app.id, userId: s.user.id, message: String(i), title: '', priority: 0, date: '' })).id);
    }
    expect((await store.messages.listByUser(s.user.id, 3)).map((m) => m.id)).toEqual(ids.slice(-3).reverse());
    expect((await store.messages.listByApplication(s.app.id, s.user.id, 10, ids[2])).map((m) => m.id)).toEqual([ids[1], ids[0]]);
  });
});

describe('ids', () => {
  it('keep increasing across a reopen, also after deleting the newest record', async () => {
    const a = await seedUser('one');
    await store.users.delete(a.user.id);
    await store.close();
    store = await LevelStore.open(dir);
    const b = await seedUser('two');
    expect(b.user.id).toBeGreaterThan(a.user.id);
    expect(b.app.id).toBeGreaterThan(a.app.id);
    expect(b.msg.id).toBeGreaterThan(a.msg.id);
    expect(b.conf.id).toBeGreaterThan(a.conf.id);
  });

  it('a second open of the same directory fails with FLOW_ERR_STORE_LOCKED', async () => {
    await expect(LevelStore.open(dir)).rejects.toMatchObject({ code: 'FLOW_ERR_STORE_LOCKED', message: expect.stringContaining('data dir is in use') });
  });
});

describe('non-ASCII keys', () => {
  it('are found again after a reopen (names, module paths, kv keys above U+00FF)', async () => {
    const user = await store.users.create({ name: '日本語 Łukasz 🚀', passHash: 'h', admin: false });
    const conf = await store.pluginConfs.create({ userId: user.id, modulePath: 'модуль/плагин', token: 'Puni', applicationId: 0, config: '' });
    await store.pluginConfs.kvSet(conf.id, 'ключ 🔑', 1);
    await store.pluginConfs.kvSet(conf.id, 'plain', 2);
    await store.close();
    store = await LevelStore.open(dir);
    expect(store.users.getByName('日本語 Łukasz 🚀')?.id).toBe(user.id);
    expect(store.pluginConfs.getByUserAndPath(user.id, 'модуль/плагин')?.id).toBe(conf.id);
    expect(await store.pluginConfs.kvList(conf.id)).toEqual({ plain: 2, 'ключ 🔑': 1 });
    await store.users.delete(user.id);
    await store.messages.purger.idle();
    expect((await allKeys(store)).filter((k) => !k.startsWith('meta!'))).toEqual([]);
  });
});

describe('LevelPluginConfStore', () => {
  it('creates, finds by token/user/path, updates, and keeps kv and storage separate', async () => {
    const s = await seedUser('pc');
    const conf = store.pluginConfs.getByUserAndPath(s.user.id, 'mod/pc')!;
    expect(conf).toMatchObject({ userId: s.user.id, token: 'Ppc', enabled: false, config: 'a: 1\n', applicationId: s.app.id });
    expect(Date.parse(conf.createdAt)).not.toBeNaN();
    expect(store.pluginConfs.getByToken('Ppc')?.id).toBe(conf.id);
    expect(store.pluginConfs.listByUser(s.user.id).map((p) => p.id)).toEqual([conf.id]);

    const updated = await store.pluginConfs.update(conf.id, { enabled: true, config: 'b: 2\n' });
    expect(updated).toMatchObject({ enabled: true, config: 'b: 2\n' });
    expect((await store.pluginConfs.getStorage(conf.id)).toString()).toBe('blob');

    const batch = vi.spyOn(store.db.level, 'batch');
    await store.pluginConfs.kvSet(conf.id, 'other', 'x');
    expect((batch.mock.calls[0] as unknown[])[0]).toHaveLength(1);
    batch.mockRestore();
    expect(await store.pluginConfs.kvList(conf.id)).toEqual({ k: { v: 1 }, other: 'x' });
    await store.pluginConfs.kvDelete(conf.id, 'k');
    expect(await store.pluginConfs.kvGet(conf.id, 'k')).toBeUndefined();

    await expect(store.pluginConfs.create({ userId: s.user.id, modulePath: 'mod/pc', token: 'Pnew', applicationId: 0, config: '' })).rejects.toMatchObject({ code: 'FLOW_ERR_STORE_CONFLICT' });
    await expect(store.pluginConfs.create({ userId: s.user.id, modulePath: 'other', token: 'Ppc', applicationId: 0, config: '' })).rejects.toMatchObject({ code: 'FLOW_ERR_STORE_CONFLICT' });
    await expect(store.pluginConfs.kvSet(999, 'k', 1)).rejects.toMatchObject({ code: 'FLOW_ERR_NOT_FOUND' });

    // Survives a reopen.
    await store.close();
    store = await LevelStore.open(dir);
    expect(store.pluginConfs.get(conf.id)).toMatchObject({ enabled: true, config: 'b: 2\n' });
    expect(await store.pluginConfs.kvList(conf.id)).toEqual({ other: 'x' });
    await store.pluginConfs.delete(conf.id);
    expect((await allKeys(store)).filter((k) => k.startsWith('p'))).toEqual([]);
  });
});
