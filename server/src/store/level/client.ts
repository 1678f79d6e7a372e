import { CachedClientStore } from '../cached/client.js';
import type { ClientRecord } from '../../model/client.js';
import { type Db } from './db.js';
import { type CascadePart, type Op } from './ops.js';
import { OwnedRecords } from './owned-records.js';

/** Clients in LevelDB, served from memory (`CachedClientStore`). */
export class LevelClientStore extends CachedClientStore {
  // Keys: c!<id> → record; c-tok!<token> → id; u-c!<userId>!<id> → ''.
  declare protected readonly records: OwnedRecords<ClientRecord>;
  protected readonly writes: OwnedRecords<ClientRecord>;

  constructor(private readonly db: Db) {
    super(db, new OwnedRecords<ClientRecord>(db, { rec: 'c!', byToken: 'c-tok!', byUser: 'u-c!', sequence: 'client' }));
    // The memory copy writes its own new records and token rotations (`OwnedRecords`).
    this.writes = this.records;
  }

  load(): Promise<void> {
    return this.records.load();
  }

  /** Ops writing a record with its own id into a data dir being built offline (import); memory is not touched. */
  importOps(rec: ClientRecord): Op[] {
    return this.records.insertOps(rec);
  }

  protected writeRecord(next: ClientRecord): Promise<void> {
    return this.db.batch([this.records.updateOp(next)]);
  }

  protected deleteRecord(cur: ClientRecord): Promise<void> {
    return this.db.batch(this.records.deleteOps(cur));
  }

  /** For the user cascade (already inside the lock): the ops, and what to apply to memory after commit. */
  deleteAllOfUserOps(userId: number): CascadePart {
    return {
      ops: this.listByUser(userId).flatMap((c) => this.records.deleteOps(c)),
      commit: () => this.forgetUser(userId),
      abort: () => undefined,
    };
  }
}
