import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { FlowError } from '../errors.js';
import type { Op } from '../store/level/ops.js';
import { LevelStore } from '../store/level/level-store.js';
import { ID_ENTITIES } from '../store/store.js';
import { countMismatches, emptyCounts, type CopyTarget } from './copy.js';

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * `flow migrate --to leveldb`: builds `<datadir>/db` in a sibling temporary directory, reopens it
 * to count what it holds, and renames it into place only when the counts match: a failure or a
 * kill leaves no half-written database behind.
 */
export async function levelTarget(dataDir: string): Promise<CopyTarget & { where: string }> {
  const target = path.join(path.resolve(dataDir), 'db');
  if (!(await isEmptyOrMissing(target))) {
    throw new FlowError('FLOW_ERR_BAD_REQUEST', `${target} already holds a database; migrate into a new --datadir (nothing was written)`);
  }
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = path.join(path.dirname(target), `.db.migrate-${process.pid}-${randomBytes(4).toString('hex')}`);
  let store: LevelStore | undefined = await LevelStore.open(tmp);
  const write = (ops: Op[]) => store!.db.batch(ops);
  return {
    where: target,
    users: (recs) => write(recs.flatMap((r) => store!.users.importOps(r))),
    clients: (recs) => write(recs.flatMap((r) => store!.clients.importOps(r))),
    applications: (recs) => write(recs.flatMap((r) => store!.applications.importOps(r))),
    pluginConf: (rec, storage, kv) => write(store!.pluginConfs.importOps(rec, storage, kv)),
    pluginPermissions: (list) => write(list.map((p) => store!.pluginPermissions.importOp(p.modulePath, p.permission))),
    messages: (recs) => write(recs.flatMap((r) => store!.messages.importOps(r))),
    async finish(lastIds, expected) {
      await write(ID_ENTITIES.map((e) => store!.db.sequenceOp(e, lastIds[e])));
      await store!.close();
      // Counted on the reopened database: what the next start will see.
      store = await LevelStore.open(tmp, { purge: { autoStart: false } });
      const actual = emptyCounts();
      const users = store.users.list();
      actual.users = users.length;
      actual.clients = users.reduce((n, u) => n + store!.clients.listByUser(u.id).length, 0);
      actual.applications = store.applications.all().length;
      for (const conf of store.pluginConfs.list()) {
        actual.pluginConfs++;
        if ((await store.pluginConfs.getStorage(conf.id)).length > 0) actual.pluginStorage++;
        actual.pluginKv += (await store.pluginConfs.kvKeys(conf.id)).length;
      }
      actual.pluginPermissions = store.pluginPermissions.list().length;
      for (let after = 0; ; ) {
        const { messages, next } = await store.messages.page(after, 5000);
        actual.messages += messages.length;
        if (next === undefined) break;
        after = next;
      }
      await store.close();
      store = undefined;
      const wrong = countMismatches(expected, actual);
      if (wrong.length > 0) throw new FlowError('FLOW_ERR_INTERNAL', `the copy does not match its source (${wrong.join('; ')}); nothing was written`);
      if (!(await isEmptyOrMissing(target))) throw new FlowError('FLOW_ERR_BAD_REQUEST', `${target} was filled meanwhile; nothing was written`);
      await rm(target, { recursive: true, force: true });
      await rename(tmp, target);
    },
    async abandon() {
      await store?.close().catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
