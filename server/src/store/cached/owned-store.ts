import { FlowError } from '../../errors.js';
import type { WriteFence } from '../message.js';
import type { OwnedCache, OwnedRecord } from '../owned-cache.js';
import { CachedStore } from './cached-store.js';

/**
 * The backend's writes that every token-holding entity with a token rotation (clients,
 * applications) makes the same way: `level/owned-records.ts`, `pg/cached-table.ts`.
 */
export interface TokenRecordWrites<T> {
  /**
   * Writes a new record under the entity's next id; returns it with that id. `fence` (PostgreSQL:
   * a plugin instance's lease, for its internal application) is checked in the insert's transaction.
   */
  insert(input: Omit<T, 'id'>, fence?: WriteFence): Promise<T>;
  /** Replaces the record's token (rotation). */
  writeToken(cur: T, next: T): Promise<void>;
}

/**
 * A cached entity whose records belong to a user and hold a secret token (clients, applications,
 * plugin confs): the token and per-user reads, the token rule, and forgetting a deleted user's records.
 */
export abstract class CachedOwnedStore<T extends OwnedRecord> extends CachedStore<T, OwnedCache<T>> {
  getByToken(token: string): T | undefined {
    return this.records.getByToken(token);
  }

  /** The user's records ordered by id. */
  listByUser(userId: number): T[] {
    return this.records.listByUser(userId);
  }

  /** FLOW_ERR_STORE_CONFLICT when the token exists (the caller draws a new one). */
  protected refuseTakenToken(token: string): void {
    if (this.records.getByToken(token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
  }

  /** After the user's records were deleted with it. */
  forgetUser(userId: number): void {
    this.records.removeUser(userId);
  }
}
