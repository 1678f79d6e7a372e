import type { ClientRecord } from '../../model/client.js';
import { CachedClientStore } from '../cached/client.js';
import { OwnedCache } from '../owned-cache.js';
import type { PgDb } from './pg-db.js';
import { CLIENT_COLUMNS, clientOf, clientValues, placeholders, type ClientRow } from './rows.js';

/** Clients in PostgreSQL (`clients`), served from memory (`CachedClientStore`). */
export class PgClientStore extends CachedClientStore {
  constructor(private readonly db: PgDb) {
    super(db, new OwnedCache<ClientRecord>());
  }

  private async fetch(where = '', values: unknown[] = []): Promise<ClientRecord[]> {
    const { rows } = await this.db.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients ${where}`, values);
    return rows.map(clientOf);
  }

  async load(): Promise<void> {
    for (const c of await this.fetch()) this.records.add(c);
  }

  /** Another replica changed client `id`: memory takes what the database holds now. */
  refresh(id: number): Promise<{ before?: ClientRecord; after?: ClientRecord }> {
    return this.db.exclusive(async () => {
      const [after] = await this.fetch('WHERE id = $1', [id]);
      return { before: this.records.adopt(id, after), after };
    });
  }

  /** Reloads every client (notifications may have been missed); returns the ones that are gone. */
  reload(): Promise<ClientRecord[]> {
    return this.db.exclusive(async () => this.records.adoptAll(await this.fetch()));
  }

  protected async insertRecord(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord> {
    const values = clientValues({ id: 0, ...input }).slice(1);
    const { rows } = await this.db.query<{ id: number }>(
      `INSERT INTO clients (${CLIENT_COLUMNS}) VALUES (nextval('client_id_seq'), ${placeholders(values.length)}) RETURNING id`,
      values,
    );
    return { id: rows[0]!.id, ...input };
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
