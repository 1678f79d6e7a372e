import type { ApplicationStore } from '../application.js';
import { FlowError } from '../../errors.js';
import type { ApplicationRecord } from '../../model/application.js';
import type { MessageRecord } from '../../model/message.js';
import { type Db } from './db.js';
import { type CascadePart, type Op, pad, putRaw, del } from './ops.js';
import type { LevelMessageStore } from './message.js';
import { OwnedRecords } from './owned-records.js';
import { keyAfter } from '../sort-key.js';

// Keys: a!<id> → record; a-tok!<token> → id; u-a!<userId>!<id> → ''; a-lu!<id> → lastUsed.
// lastUsed has its own key because it is written by message inserts, outside the store lock:
// rewriting the whole record there could undo a concurrent rename.
const LAST_USED = 'a-lu!';

/**
 * Applications, cached in memory (POST /message resolves its token on every call). Messages
 * belong to an application, so adding one goes through here (`addMessage`), and deleting an
 * application marks its messages deleted in the same batch (the purger removes them later).
 */
export class LevelApplicationStore implements ApplicationStore {
  private records = new OwnedRecords<ApplicationRecord>({ rec: 'a!', byToken: 'a-tok!', byUser: 'u-a!' });
  /** Apps being deleted: message inserts for them are refused while the cascade runs. */
  private closing = new Set<number>();

  constructor(
    private readonly db: Db,
    private readonly messages: LevelMessageStore,
  ) {}

  async load(): Promise<void> {
    await this.records.load(this.db);
    for (const [k, v] of await this.db.entries(LAST_USED)) {
      const a = this.records.get(Number(k.slice(LAST_USED.length)));
      if (a) a.lastUsed = v;
    }
  }

  get(id: number): ApplicationRecord | undefined {
    return this.records.get(id);
  }

  getByToken(token: string): ApplicationRecord | undefined {
    return this.records.getByToken(token);
  }

  /** Every application, in no particular order (retention checks). */
  all(): ApplicationRecord[] {
    return [...this.records.values()];
  }

  /** True while messages may be added to the application (it exists and is not being deleted). */
  acceptsMessages(id: number): boolean {
    return this.records.get(id) !== undefined && !this.closing.has(id);
  }

  /** The user's applications ordered by (sortKey, id), as Gotify lists them. */
  listByUser(userId: number): ApplicationRecord[] {
    return this.records.listByUser(userId).sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.id - b.id));
  }

  private sortKeyTaken(userId: number, key: string, exceptId = 0): boolean {
    return this.listByUser(userId).some((a) => a.sortKey === key && a.id !== exceptId);
  }

  /**
   * Creates the application; an empty sortKey is placed after the user's last one.
   * Throws FLOW_ERR_STORE_CONFLICT for a duplicate token or sort key.
   */
  create(input: Omit<ApplicationRecord, 'id'>): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      if (this.records.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      let sortKey = input.sortKey;
      if (sortKey === '') {
        const apps = this.listByUser(input.userId);
        sortKey = keyAfter(apps.reduce((max, a) => (a.sortKey > max ? a.sortKey : max), ''));
      } else if (this.sortKeyTaken(input.userId, sortKey)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
      }
      const { id, op } = this.db.nextId('application');
      const rec: ApplicationRecord = { ...input, id, sortKey };
      await this.db.batch([op, ...this.records.insertOps(rec)]);
      this.records.add(rec);
      return rec;
    });
  }

  /** Ops writing a record with its own id into a data dir being built offline (import); memory is not touched. */
  importOps(rec: ApplicationRecord): Op[] {
    return this.records.insertOps(rec);
  }

  /** Replaces the token (PUT /application/:id/security). FLOW_ERR_STORE_CONFLICT when the new one exists. */
  setToken(id: number, token: string): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      if (this.records.getByToken(token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const next = { ...cur, token, lastUsed: this.records.get(id)?.lastUsed ?? cur.lastUsed };
      await this.db.batch(this.records.retokenOps(cur, next));
      this.records.retoken(cur, next);
      return next;
    });
  }

  /**
   * Inserts a message into the application: record, both indexes and the id sequence in one
   * batch, plus the application's lastUsed when `lastUsed` is given. This is the hot path, so it
   * skips the store lock; the check and the id allocation are synchronous and the write is
   * tracked, so a concurrent application delete either refuses this insert or purges it too.
   * FLOW_ERR_NOT_FOUND when the application is missing or being deleted.
   */
  addMessage(input: Omit<MessageRecord, 'id'>, lastUsed?: string): Promise<MessageRecord> {
    if (!this.acceptsMessages(input.appId)) {
      return Promise.reject(new FlowError('FLOW_ERR_NOT_FOUND', 'application does not exist'));
    }
    const { record, ops } = this.messages.insertOps(input);
    if (lastUsed !== undefined) {
      const cur = this.records.get(input.appId)!;
      // Applied to memory at once: a lost lastUsed update is harmless.
      this.records.set({ ...cur, lastUsed });
      ops.push(putRaw(LAST_USED + pad(input.appId), lastUsed));
    }
    return this.db.track(this.db.batch(ops)).then(() => record);
  }

  /** Changes mutable fields; id, token and owner never change. */
  update(
    id: number,
    patch: Partial<Pick<ApplicationRecord, 'name' | 'description' | 'defaultPriority' | 'sortKey' | 'image' | 'internal' | 'lastUsed' | 'retention'>>,
  ): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      if (patch.sortKey !== undefined && patch.sortKey !== cur.sortKey && this.sortKeyTaken(cur.userId, patch.sortKey, id)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
      }
      const next = { ...cur, ...patch };
      await this.db.batch([this.records.updateOp(next)]);
      // A message may have touched lastUsed while the batch ran.
      const fresh = { ...next, lastUsed: this.records.get(id)?.lastUsed ?? next.lastUsed };
      this.records.set(fresh);
      return fresh;
    });
  }

  /**
   * Deletes the application and marks its messages deleted in one small batch (the purger
   * removes them in the background); `check` may veto inside the lock.
   */
  delete(id: number, check?: (cur: ApplicationRecord) => void): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      check?.(cur);
      // From here no insert gets an id above the purge mark's.
      this.closing.add(id);
      try {
        const purge = this.messages.purgeApplicationPart(id, cur.userId);
        await this.db.batch([...this.recordOps(cur), ...(purge ? [purge.op] : [])]);
        this.records.remove(cur);
        purge?.commit();
        return cur;
      } finally {
        this.closing.delete(id);
      }
    });
  }

  private current(id: number): ApplicationRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', `app with id ${id} doesn't exists`);
    return cur;
  }

  private recordOps(a: ApplicationRecord): Op[] {
    return [...this.records.deleteOps(a), del(LAST_USED + pad(a.id))];
  }

  /**
   * For the user cascade (inside the lock): ops deleting every app of the user and marking all
   * the user's messages deleted. Message inserts for these apps are refused from here on; the
   * caller runs `commit` after the batch succeeded, or `abort` when it failed.
   */
  deleteAllOfUserOps(userId: number): CascadePart {
    const apps = this.listByUser(userId);
    for (const a of apps) this.closing.add(a.id);
    const reopen = () => {
      for (const a of apps) this.closing.delete(a.id);
    };
    const purge = this.messages.purgeUserPart(userId);
    return {
      ops: [...apps.flatMap((a) => this.recordOps(a)), ...(purge ? [purge.op] : [])],
      commit: () => {
        this.records.removeUser(userId);
        purge?.commit();
        reopen();
      },
      abort: reopen,
    };
  }
}
