import type { ClientStore } from '../client.js';
import { FlowError } from '../../errors.js';
import type { ClientRecord } from '../../model/client.js';
import { type Db } from './db.js';
import { type CascadePart, type Op } from './ops.js';
import { OwnedRecords } from './owned-records.js';

/** Clients, cached in memory like users (a token lookup runs on every authenticated request). */
export class LevelClientStore implements ClientStore {
  // Keys: c!<id> → record; c-tok!<token> → id; u-c!<userId>!<id> → ''.
  private records = new OwnedRecords<ClientRecord>({ rec: 'c!', byToken: 'c-tok!', byUser: 'u-c!' });

  constructor(private readonly db: Db) {}

  load(): Promise<void> {
    return this.records.load(this.db);
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

  /** Throws FLOW_ERR_STORE_CONFLICT when the token exists (the caller draws a new one). */
  create(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      if (this.records.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const { id, op } = this.db.nextId('client');
      const rec: ClientRecord = { id, ...input };
      await this.db.batch([op, ...this.records.insertOps(rec)]);
      this.records.add(rec);
      return rec;
    });
  }

  /** Ops writing a record with its own id into a data dir being built offline (import); memory is not touched. */
  importOps(rec: ClientRecord): Op[] {
    return this.records.insertOps(rec);
  }

  /** Replaces the token (PUT /client/:id/security). FLOW_ERR_STORE_CONFLICT when the new one exists. */
  setToken(id: number, token: string): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      if (this.records.getByToken(token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const next = { ...cur, token };
      await this.db.batch(this.records.retokenOps(cur, next));
      this.records.retoken(cur, next);
      return next;
    });
  }

  /** Updates mutable fields (name, lastUsed, elevatedUntil); token and owner never change. */
  update(id: number, patch: Partial<Pick<ClientRecord, 'name' | 'lastUsed' | 'elevatedUntil'>>): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const next = { ...this.current(id), ...patch };
      await this.db.batch([this.records.updateOp(next)]);
      this.records.set(next);
      return next;
    });
  }

  delete(id: number): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      await this.db.batch(this.records.deleteOps(cur));
      this.records.remove(cur);
      return cur;
    });
  }

  private current(id: number): ClientRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'client does not exist');
    return cur;
  }

  /** For the user cascade (already inside the lock): the ops, and what to apply to memory after commit. */
  deleteAllOfUserOps(userId: number): CascadePart {
    return {
      ops: this.listByUser(userId).flatMap((c) => this.records.deleteOps(c)),
      commit: () => this.records.removeUser(userId),
      abort: () => undefined,
    };
  }
}
