import type { ApplicationPatch } from '../application.js';
import { CachedApplicationStore } from '../cached/application.js';
import type { ApplicationRecord } from '../../model/application.js';
import type { MessageRecord } from '../../model/message.js';
import { type Db } from './db.js';
import { type CascadePart, type Op, pad, putRaw, del } from './ops.js';
import type { LevelMessageStore } from './message.js';
import { OwnedRecords } from './owned-records.js';

// Keys: a!<id> → record; a-tok!<token> → id; u-a!<userId>!<id> → ''; a-lu!<id> → lastUsed.
// lastUsed has its own key because it is written by message inserts, outside the store lock:
// rewriting the whole record there could undo a concurrent rename.
const LAST_USED = 'a-lu!';

/**
 * Applications in LevelDB, served from memory (`CachedApplicationStore`). Deleting one marks
 * its messages deleted in the same batch (the purger removes them later).
 */
export class LevelApplicationStore extends CachedApplicationStore {
  declare protected readonly records: OwnedRecords<ApplicationRecord>;
  protected readonly writes: OwnedRecords<ApplicationRecord>;

  constructor(
    private readonly db: Db,
    private readonly messages: LevelMessageStore,
  ) {
    super(db, new OwnedRecords<ApplicationRecord>(db, { rec: 'a!', byToken: 'a-tok!', byUser: 'u-a!', sequence: 'application' }));
    // The memory copy writes its own new records and token rotations (`OwnedRecords`).
    this.writes = this.records;
  }

  async load(): Promise<void> {
    await this.records.load();
    for (const [k, v] of await this.db.entries(LAST_USED)) {
      const a = this.records.get(Number(k.slice(LAST_USED.length)));
      if (a) a.lastUsed = v;
    }
  }

  /** Ops writing a record with its own id into a data dir being built offline (import); memory is not touched. */
  importOps(rec: ApplicationRecord): Op[] {
    return this.records.insertOps(rec);
  }

  protected writeRecord(next: ApplicationRecord, patch: ApplicationPatch): Promise<void> {
    const ops = [this.records.updateOp(next)];
    if (patch.lastUsed !== undefined) ops.push(patch.lastUsed === null ? del(LAST_USED + pad(next.id)) : putRaw(LAST_USED + pad(next.id), patch.lastUsed));
    return this.db.batch(ops);
  }

  /**
   * Record, both indexes and the id sequence in one batch, plus the application's lastUsed when
   * given. The id is allocated synchronously (call order), before this returns its promise.
   */
  protected insertMessage(input: Omit<MessageRecord, 'id'>, lastUsed?: string): Promise<MessageRecord> {
    const { record, ops } = this.messages.insertOps(input);
    if (lastUsed !== undefined) ops.push(putRaw(LAST_USED + pad(input.appId), lastUsed));
    return this.db.batch(ops).then(() => record);
  }

  /** One small batch: the application's keys and its messages' purge mark. */
  protected async deleteRecord(cur: ApplicationRecord): Promise<void> {
    const purge = this.messages.purgeApplicationPart(cur.id, cur.userId);
    await this.db.batch([...this.recordOps(cur), ...(purge ? [purge.op] : [])]);
    purge?.commit();
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
    const { apps, reopen } = this.closeAllOfUser(userId);
    const purge = this.messages.purgeUserPart(userId);
    return {
      ops: [...apps.flatMap((a) => this.recordOps(a)), ...(purge ? [purge.op] : [])],
      commit: () => {
        this.forgetUser(userId);
        purge?.commit();
        reopen();
      },
      abort: reopen,
    };
  }
}
