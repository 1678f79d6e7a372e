import type { ApplicationRecord } from '../../model/application.js';
import type { MessageRecord } from '../../model/message.js';
import type { ApplicationPatch } from '../application.js';
import { CachedApplicationStore } from '../cached/application.js';
import { OwnedCache } from '../owned-cache.js';
import type { WriteFence } from '../message.js';
import type { PgMessageStore } from './message.js';
import type { PgDb } from './pg-db.js';
import { APPLICATION_COLUMNS, applicationOf, applicationValues, placeholders, type ApplicationRow } from './rows.js';

/**
 * Applications in PostgreSQL (`applications`), served from memory (`CachedApplicationStore`).
 * Deleting an application writes its purge mark in the same transaction, as the LevelDB store
 * does in one batch.
 */
export class PgApplicationStore extends CachedApplicationStore {
  constructor(
    private readonly db: PgDb,
    readonly messages: PgMessageStore,
  ) {
    super(db, new OwnedCache<ApplicationRecord>());
  }

  private async fetch(where = '', values: unknown[] = []): Promise<ApplicationRecord[]> {
    const { rows } = await this.db.query<ApplicationRow>(`SELECT ${APPLICATION_COLUMNS} FROM applications ${where}`, values);
    return rows.map(applicationOf);
  }

  async load(): Promise<void> {
    for (const a of await this.fetch()) this.records.add(a);
  }

  /** Another replica changed application `id`: memory takes what the database holds now. */
  refresh(id: number): Promise<{ before?: ApplicationRecord; after?: ApplicationRecord }> {
    return this.db.exclusive(async () => {
      const [after] = await this.fetch('WHERE id = $1', [id]);
      return { before: this.records.adopt(id, after), after };
    });
  }

  /** Reloads every application (notifications may have been missed); returns the ones that are gone. */
  reload(): Promise<ApplicationRecord[]> {
    return this.db.exclusive(async () => this.records.adoptAll(await this.fetch()));
  }

  protected async insertRecord(input: Omit<ApplicationRecord, 'id'>, fence?: WriteFence): Promise<ApplicationRecord> {
    const values = applicationValues({ ...input, id: 0 }).slice(1);
    const insert = `INSERT INTO applications (${APPLICATION_COLUMNS}) VALUES (nextval('application_id_seq'), ${placeholders(values.length)}) RETURNING id`;
    if (!fence) return { ...input, id: (await this.db.query<{ id: number }>(insert, values)).rows[0]!.id };
    const id = await this.db.tx(async (q) => {
      const { rows } = await q.query<{ id: number }>(insert, values);
      await fence.check(q);
      return rows[0]!.id;
    });
    return { ...input, id };
  }

  protected async writeToken(cur: ApplicationRecord, next: ApplicationRecord): Promise<void> {
    await this.db.query('UPDATE applications SET token = $2 WHERE id = $1', [cur.id, next.token]);
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
