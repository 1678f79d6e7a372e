import type { ClientRecord } from '../../model/client.js';
import { CachedClientStore } from '../cached/client.js';
import { OwnedCache } from '../owned-cache.js';
import { followingTable, PgCachedTable } from './cached-table.js';
import type { PgDb } from './pg-db.js';
import { CLIENTS } from './rows.js';

/** Clients in PostgreSQL (`clients`), served from memory (`CachedClientStore`). */
export class PgClientStore extends followingTable<ClientRecord, typeof CachedClientStore>(CachedClientStore) {
  readonly table: PgCachedTable<ClientRecord>;

  constructor(private readonly db: PgDb) {
    super(db, new OwnedCache<ClientRecord>());
    this.table = new PgCachedTable(db, CLIENTS, this.records);
  }

  protected async insertRecord(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord> {
    return { id: await this.table.insert({ id: 0, ...input }), ...input };
  }

  protected async writeToken(cur: ClientRecord, next: ClientRecord): Promise<void> {
    await this.db.query('UPDATE clients SET token = $2 WHERE id = $1', [cur.id, next.token]);
  }

  protected async writeRecord(next: ClientRecord): Promise<void> {
    await this.db.query('UPDATE clients SET name = $2, last_used = $3, elevated_until = $4 WHERE id = $1', [next.id, next.name, next.lastUsed, next.elevatedUntil ?? null]);
  }

  protected async deleteRecord(cur: ClientRecord): Promise<void> {
    await this.db.query('DELETE FROM clients WHERE id = $1', [cur.id]);
  }
}
