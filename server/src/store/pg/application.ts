import type { ApplicationRecord } from '../../model/application.js';
import type { MessageRecord } from '../../model/message.js';
import type { ApplicationPatch } from '../application.js';
import { CachedApplicationStore } from '../cached/application.js';
import { OwnedCache } from '../owned-cache.js';
import type { WriteFence } from '../message.js';
import type { PgMessageStore } from './message.js';
import { followingTable, PgTokenTable } from './cached-table.js';
import type { PgDb } from './pg-db.js';
import { APPLICATIONS, applicationValues } from './rows.js';

/**
 * Applications in PostgreSQL (`applications`), served from memory (`CachedApplicationStore`).
 * Deleting an application writes its purge mark in the same transaction, as the LevelDB store
 * does in one batch.
 */
export class PgApplicationStore extends followingTable<ApplicationRecord, typeof CachedApplicationStore>(CachedApplicationStore) {
  readonly table: PgTokenTable<ApplicationRecord>;
  protected readonly writes: PgTokenTable<ApplicationRecord>;

  constructor(
    private readonly db: PgDb,
    readonly messages: PgMessageStore,
  ) {
    super(db, new OwnedCache<ApplicationRecord>());
    this.table = this.writes = new PgTokenTable(db, APPLICATIONS, this.records);
  }

  protected async writeRecord(next: ApplicationRecord, patch: ApplicationPatch): Promise<void> {
    const v = applicationValues(next);
    await this.db.query(
      `UPDATE applications SET name = $2, description = $3, internal = $4, image = $5, default_priority = $6, sort_key = $7, retention = $8${
        patch.lastUsed !== undefined ? ', last_used = $9' : ''
      } WHERE id = $1`,
      [next.id, next.name, next.description, next.internal, next.image, next.defaultPriority, next.sortKey, v[10], ...(patch.lastUsed !== undefined ? [next.lastUsed] : [])],
    );
  }

  protected insertMessage(input: Omit<MessageRecord, 'id'>, lastUsed?: string, fence?: WriteFence): Promise<MessageRecord> {
    return this.messages.insert(input, lastUsed, fence);
  }

  /** One transaction: the purge mark of its messages and the row. */
  protected async deleteRecord(cur: ApplicationRecord): Promise<void> {
    const mark = await this.messages.purgeApplicationMark(cur.id, cur.userId);
    await this.db.tx(async (q) => {
      await mark?.write(q);
      await q.query('DELETE FROM applications WHERE id = $1', [cur.id]);
    });
    mark?.commit();
  }
}
