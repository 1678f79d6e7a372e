import type { UserStore } from '../user.js';
import { FlowError } from '../../errors.js';
import type { UserRecord } from '../../model/user.js';
import { type Db } from './db.js';
import { type CascadePart, type Op, pad, put, putRaw, del } from './ops.js';
import type { LevelClientStore } from './client.js';
import type { LevelApplicationStore } from './application.js';
import type { LevelPluginConfStore } from './plugin-conf.js';

// Keys: u!<id> → record; u-name!<name> → id.
const REC = 'u!';
const BY_NAME = 'u-name!';

/**
 * Users. The whole table is small, so it is loaded at open and served from memory
 * (write-through: memory changes only after the batch is committed).
 */
export class LevelUserStore implements UserStore {
  private byId = new Map<number, UserRecord>();
  private byName = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly related: () => { clients: LevelClientStore; applications: LevelApplicationStore; pluginConfs: LevelPluginConfStore },
  ) {}

  async load(): Promise<void> {
    for (const [, v] of await this.db.entries(REC)) {
      const u = JSON.parse(v) as UserRecord;
      this.byId.set(u.id, u);
    }
    for (const [k, v] of await this.db.entries(BY_NAME)) this.byName.set(k.slice(BY_NAME.length), Number(v));
  }

  get(id: number): UserRecord | undefined {
    return this.byId.get(id);
  }

  getByName(name: string): UserRecord | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** All users ordered by id. */
  list(): UserRecord[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  countAdmins(): number {
    let n = 0;
    for (const u of this.byId.values()) if (u.admin) n++;
    return n;
  }

  /** Throws FLOW_ERR_STORE_CONFLICT when the name is taken. */
  create(input: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    return this.db.exclusive(async () => {
      if (this.byName.has(input.name)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'username already exists');
      const { id, op } = this.db.nextId('user');
      const rec: UserRecord = { id, ...input };
      await this.db.batch([op, put(REC + pad(id), rec), putRaw(BY_NAME + rec.name, String(id))]);
      this.byId.set(id, rec);
      this.byName.set(rec.name, id);
      return rec;
    });
  }

  /** Ops writing a record with its own id into a data dir being built offline (import); memory is not touched. */
  importOps(rec: UserRecord): Op[] {
    return [put(REC + pad(rec.id), rec), putRaw(BY_NAME + rec.name, String(rec.id))];
  }

  /**
   * Replaces the record (name, admin, passHash). `check` runs inside the lock against the current
   * record, so rules such as "keep one admin" cannot race with another change.
   */
  update(id: number, change: (cur: UserRecord) => UserRecord): Promise<UserRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'user does not exist');
      const next = { ...change(cur), id };
      const ops: Op[] = [put(REC + pad(id), next)];
      if (next.name !== cur.name) {
        if (this.byName.has(next.name)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'username already exists');
        ops.push(del(BY_NAME + cur.name), putRaw(BY_NAME + next.name, String(id)));
      }
      await this.db.batch(ops);
      this.byId.set(id, next);
      if (next.name !== cur.name) {
        this.byName.delete(cur.name);
        this.byName.set(next.name, id);
      }
      return next;
    });
  }

  /**
   * Deletes the user with its applications (and their messages), clients, plugin confs (with
   * storage and kv entries) in one batch. `check` runs inside the lock first and may throw
   * (e.g. last admin). Returns the removed records so callers can notify.
   */
  delete(id: number, check?: (cur: UserRecord) => void): Promise<UserRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'user does not exist');
      check?.(cur);
      const { clients, applications, pluginConfs } = this.related();
      const ops: Op[] = [del(REC + pad(id)), del(BY_NAME + cur.name)];
      const parts: CascadePart[] = [];
      try {
        parts.push(applications.deleteAllOfUserOps(id));
        parts.push(clients.deleteAllOfUserOps(id));
        parts.push(await pluginConfs.deleteAllOfUserOps(id));
        for (const p of parts) ops.push(...p.ops);
        await this.db.batch(ops);
      } catch (err) {
        for (const p of parts) p.abort();
        throw err;
      }
      this.byId.delete(id);
      this.byName.delete(cur.name);
      for (const p of parts) p.commit();
      return cur;
    });
  }
}
