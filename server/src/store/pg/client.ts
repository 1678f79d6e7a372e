import { FlowError } from '../../errors.js';
import type { ClientRecord } from '../../model/client.js';
import type { ClientStore } from '../client.js';
import { OwnedCache } from '../owned-cache.js';
import type { PgDb } from './pg-db.js';
import { CLIENT_COLUMNS, clientOf, clientValues, placeholders, type ClientRow } from './rows.js';

/** Clients in PostgreSQL (`clients`), served from memory (write-through after commit). */
export class PgClientStore implements ClientStore {
  private records = new OwnedCache<ClientRecord>();

  constructor(private readonly db: PgDb) {}

  async load(): Promise<void> {
    const { rows } = await this.db.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients`);
    for (const r of rows) this.records.add(clientOf(r));
  }

  get(id: number): ClientRecord | undefined {
    return this.records.get(id);
  }

  getByToken(token: string): ClientRecord | undefined {
    return this.records.getByToken(token);
  }

  listByUser(userId: number): ClientRecord[] {
    return this.records.listByUser(userId);
  }

  create(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      if (this.records.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const values = clientValues({ id: 0, ...input }).slice(1);
      const { rows } = await this.db.query<{ id: number }>(
        `INSERT INTO clients (${CLIENT_COLUMNS}) VALUES (nextval('client_id_seq'), ${placeholders(values.length)}) RETURNING id`,
        values,
      );
      const rec: ClientRecord = { id: rows[0]!.id, ...input };
      this.records.add(rec);
      return rec;
    });
  }

  setToken(id: number, token: string): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      if (this.records.getByToken(token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const next = { ...cur, token };
      await this.db.query('UPDATE clients SET token = $2 WHERE id = $1', [id, token]);
      this.records.retoken(cur, next);
      return next;
    });
  }

  update(id: number, patch: Partial<Pick<ClientRecord, 'name' | 'lastUsed' | 'elevatedUntil'>>): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const next = { ...this.current(id), ...patch };
      await this.db.query('UPDATE clients SET name = $2, last_used = $3, elevated_until = $4 WHERE id = $1', [id, next.name, next.lastUsed, next.elevatedUntil ?? null]);
      this.records.set(next);
      return next;
    });
  }

  delete(id: number): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      await this.db.query('DELETE FROM clients WHERE id = $1', [id]);
      this.records.remove(cur);
      return cur;
    });
  }

  private current(id: number): ClientRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'client does not exist');
    return cur;
  }

  /** After the user's row (and by its foreign key, its clients) was deleted. */
  forgetUser(userId: number): void {
    this.records.removeUser(userId);
  }
}
