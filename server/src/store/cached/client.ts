import { FlowError } from '../../errors.js';
import type { ClientRecord } from '../../model/client.js';
import type { ClientStore } from '../client.js';
import type { OwnedCache } from '../owned-cache.js';
import type { WriteGate } from '../write-gate.js';

export type ClientPatch = Partial<Pick<ClientRecord, 'name' | 'lastUsed' | 'elevatedUntil'>>;

/**
 * Clients (and sessions) served from memory, the same for both backends: reads, the token
 * rules checked under the store's lock and the write-through after commit. A backend supplies
 * the writes and the memory copy it loads (`OwnedCache`, or LevelDB's `OwnedRecords`).
 */
export abstract class CachedClientStore implements ClientStore {
  constructor(
    protected readonly gate: WriteGate,
    protected readonly records: OwnedCache<ClientRecord>,
  ) {}

  protected abstract insertRecord(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord>;
  protected abstract writeToken(cur: ClientRecord, next: ClientRecord): Promise<void>;
  protected abstract writeRecord(next: ClientRecord): Promise<void>;
  protected abstract deleteRecord(cur: ClientRecord): Promise<void>;

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
    return this.gate.exclusive(async () => {
      if (this.records.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const rec = await this.insertRecord(input);
      this.records.add(rec);
      return rec;
    });
  }

  /** Replaces the token (PUT /client/:id/security). FLOW_ERR_STORE_CONFLICT when the new one exists. */
  setToken(id: number, token: string): Promise<ClientRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      if (this.records.getByToken(token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const next = { ...cur, token };
      await this.writeToken(cur, next);
      this.records.retoken(cur, next);
      return next;
    });
  }

  /** Updates mutable fields (name, lastUsed, elevatedUntil); token and owner never change. */
  update(id: number, patch: ClientPatch): Promise<ClientRecord> {
    return this.gate.exclusive(async () => {
      const next = { ...this.current(id), ...patch };
      await this.writeRecord(next);
      this.records.set(next);
      return next;
    });
  }

  delete(id: number): Promise<ClientRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      await this.deleteRecord(cur);
      this.records.remove(cur);
      return cur;
    });
  }

  protected current(id: number): ClientRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'client does not exist');
    return cur;
  }

  /** After the user's clients were deleted with it. */
  forgetUser(userId: number): void {
    this.records.removeUser(userId);
  }
}
