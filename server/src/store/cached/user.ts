import { FlowError } from '../../errors.js';
import type { UserRecord } from '../../model/user.js';
import { RecordCache } from '../record-cache.js';
import { CachedStore } from './cached-store.js';
import type { UserStore } from '../user.js';
import type { WriteGate } from '../write-gate.js';

/**
 * Users served from memory, the same for both backends: the reads, the rules checked under the
 * store's lock (a taken name) and the write-through of memory after a commit. A backend
 * (`level/user.ts`, `pg/user.ts`) supplies only the three writes and, with PostgreSQL, what
 * another replica changed (`adopt`).
 */
export abstract class CachedUserStore extends CachedStore<UserRecord> implements UserStore {
  private byName = new Map<string, number>();

  constructor(gate: WriteGate) {
    super(gate, new RecordCache<UserRecord>());
    this.records.addIndex({
      add: (u) => this.byName.set(u.name, u.id),
      remove: (u) => {
        if (this.byName.get(u.name) === u.id) this.byName.delete(u.name);
      },
    });
  }

  /** Writes a new user; returns it with its id. */
  protected abstract insertRecord(input: Omit<UserRecord, 'id'>): Promise<UserRecord>;
  /** Replaces the stored record (its name may change). */
  protected abstract writeRecord(cur: UserRecord, next: UserRecord): Promise<void>;
  /** Deletes the user with everything it owns, and drops what it owned from the other caches. */
  protected abstract override deleteRecord(cur: UserRecord): Promise<void>;

  protected missing(): string {
    return 'user does not exist';
  }

  getByName(name: string): UserRecord | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.records.get(id);
  }

  /** All users ordered by id. */
  list(): UserRecord[] {
    return this.records.list();
  }

  countAdmins(): number {
    let n = 0;
    for (const u of this.records.values()) if (u.admin) n++;
    return n;
  }

  /** Throws FLOW_ERR_STORE_CONFLICT when the name is taken. */
  create(input: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    return this.createChecked(
      () => this.refuseTakenName(input.name),
      () => this.insertRecord(input),
    );
  }

  private refuseTakenName(name: string): void {
    if (this.byName.has(name)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'username already exists');
  }

  /**
   * Replaces the record (name, admin, passHash). `change` runs inside the lock against the
   * current record, so rules such as "keep one admin" cannot race with another change.
   */
  update(id: number, change: (cur: UserRecord) => UserRecord): Promise<UserRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      const next = { ...change(cur), id };
      if (next.name !== cur.name) this.refuseTakenName(next.name);
      await this.writeRecord(cur, next);
      this.records.adopt(id, next);
      return next;
    });
  }
}
