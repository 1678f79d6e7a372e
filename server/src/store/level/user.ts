import { CachedUserStore } from '../cached/user.js';
import type { UserRecord } from '../../model/user.js';
import { type Db } from './db.js';
import { type CascadePart, type Op, pad, put, putRaw, del } from './ops.js';
import type { LevelClientStore } from './client.js';
import type { LevelApplicationStore } from './application.js';
import type { LevelPluginConfStore } from './plugin-conf.js';

// Keys: u!<id> → record; u-name!<name> → id.
const REC = 'u!';
const BY_NAME = 'u-name!';

/** Users in LevelDB: loaded whole at open, served from memory (`CachedUserStore`). */
export class LevelUserStore extends CachedUserStore {
  constructor(
    private readonly db: Db,
    private readonly related: () => { clients: LevelClientStore; applications: LevelApplicationStore; pluginConfs: LevelPluginConfStore },
  ) {
    super(db);
  }

  async load(): Promise<void> {
    for (const [, v] of await this.db.entries(REC)) this.records.add(JSON.parse(v) as UserRecord);
  }

  protected async insertRecord(input: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    const { id, op } = this.db.nextId('user');
    const rec: UserRecord = { id, ...input };
    await this.db.batch([op, ...this.importOps(rec)]);
    return rec;
  }

  /** Ops writing a record with its own id into a data dir being built offline (import); memory is not touched. */
  importOps(rec: UserRecord): Op[] {
    return [put(REC + pad(rec.id), rec), putRaw(BY_NAME + rec.name, String(rec.id))];
  }

  protected async writeRecord(cur: UserRecord, next: UserRecord): Promise<void> {
    const ops: Op[] = [put(REC + pad(next.id), next)];
    if (next.name !== cur.name) ops.push(del(BY_NAME + cur.name), putRaw(BY_NAME + next.name, String(next.id)));
    await this.db.batch(ops);
  }

  /** One batch: the user's keys, its applications (messages marked deleted), clients and plugin confs with storage and kv. */
  protected async deleteRecord(cur: UserRecord): Promise<void> {
    const { clients, applications, pluginConfs } = this.related();
    const ops: Op[] = [del(REC + pad(cur.id)), del(BY_NAME + cur.name)];
    const parts: CascadePart[] = [];
    try {
      parts.push(applications.deleteAllOfUserOps(cur.id));
      parts.push(clients.deleteAllOfUserOps(cur.id));
      parts.push(await pluginConfs.deleteAllOfUserOps(cur.id));
      for (const p of parts) ops.push(...p.ops);
      await this.db.batch(ops);
    } catch (err) {
      for (const p of parts) p.abort();
      throw err;
    }
    for (const p of parts) p.commit();
  }
}
