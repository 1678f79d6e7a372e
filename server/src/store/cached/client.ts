import type { ClientRecord } from '../../model/client.js';
import type { ClientStore } from '../client.js';
import { CachedOwnedStore, type TokenRecordWrites } from './owned-store.js';

export type ClientPatch = Partial<Pick<ClientRecord, 'name' | 'lastUsed' | 'elevatedUntil'>>;

/**
 * Clients (and sessions) served from memory, the same for both backends: reads, the token
 * rules checked under the store's lock and the write-through after commit. A backend supplies
 * the writes and the memory copy it loads (`OwnedCache`, or LevelDB's `OwnedRecords`).
 */
export abstract class CachedClientStore extends CachedOwnedStore<ClientRecord> implements ClientStore {
  protected abstract readonly writes: TokenRecordWrites<ClientRecord>;
  protected abstract writeRecord(next: ClientRecord): Promise<void>;

  protected missing(): string {
    return 'client does not exist';
  }

  /** Throws FLOW_ERR_STORE_CONFLICT when the token exists (the caller draws a new one). */
  create(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord> {
    return this.createChecked(
      () => this.refuseTakenToken(input.token),
      () => this.writes.insert(input),
    );
  }

  /** Replaces the token (PUT /client/:id/security). FLOW_ERR_STORE_CONFLICT when the new one exists. */
  setToken(id: number, token: string): Promise<ClientRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      this.refuseTakenToken(token);
      const next = { ...cur, token };
      await this.writes.writeToken(cur, next);
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
}
