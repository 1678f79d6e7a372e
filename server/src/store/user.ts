import type { UserRecord } from '../model/user.js';

/**
 * Users, as services see them, whatever the backend (`level/user.ts`, `pg/user.ts`). The table
 * is small and read on every authenticated request, so reads are synchronous, from a memory
 * copy that changes only after a write is committed (write-through).
 */
export interface UserStore {
  get(id: number): UserRecord | undefined;
  getByName(name: string): UserRecord | undefined;
  /** All users ordered by id. */
  list(): UserRecord[];
  countAdmins(): number;
  /** Throws FLOW_ERR_STORE_CONFLICT when the name is taken. */
  create(input: Omit<UserRecord, 'id'>): Promise<UserRecord>;
  /** Replaces the record; `change` runs against the current record under the store's lock. */
  update(id: number, change: (cur: UserRecord) => UserRecord): Promise<UserRecord>;
  /**
   * Deletes the user with its applications (their messages marked deleted), clients and plugin
   * confs (with storage and kv entries) atomically; `check` may veto first (last admin).
   */
  delete(id: number, check?: (cur: UserRecord) => void): Promise<UserRecord>;
}
