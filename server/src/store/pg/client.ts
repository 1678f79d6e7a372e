import type { ClientRecord } from '../../model/client.js';
import { CachedClientStore } from '../cached/client.js';
import { OwnedCache } from '../owned-cache.js';
import { followingTable, PgTokenTable } from './cached-table.js';
import type { PgDb } from './pg-db.js';
import { CLIENTS } from './rows.js';

/** Clients in PostgreSQL (`clients`), served from memory (`CachedClientStore`). */
export class PgClientStore extends followingTable<ClientRecord, typeof CachedClientStore>(CachedClientStore) {
  readonly table: PgTokenTable<ClientRecord>;
  protected readonly writes: PgTokenTable<ClientRecord>;

  constructor(private readonly db: PgDb) {
    super(db, new OwnedCache<ClientRecord>());
    this.table = this.writes = new PgTokenTable(db, CLIENTS, this.records);
  }

  protected async writeRecord(next: ClientRecord): Promise<void> {
    await this.db.query('UPDATE clients SET name = $2, last_used = $3, elevated_until = $4 WHERE id = $1', [next.id, next.name, next.lastUsed, next.elevatedUntil ?? null]);
  }

  protected async deleteRecord(cur: ClientRecord): Promise<void> {
    await this.db.query('DELETE FROM clients WHERE id = $1', [cur.id]);
  }
}
