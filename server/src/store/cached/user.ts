import { FlowError } from '../../errors.js';
import type { UserRecord } from '../../model/user.js';
import type { UserStore } from '../user.js';
import type { WriteGate } from '../write-gate.js';

/**
 * Users served from memory, the same for both backends: the reads, the rules checked under the
 * store's lock (a taken name) and the write-through of memory after a commit. A backend
 * (`level/user.ts`, `pg/user.ts`) supplies only the three writes and, with PostgreSQL, what
 * another replica changed (`adopt`).
 */
export abstract class CachedUserStore implements UserStore {
  private byId = new Map<number, UserRecord>();
  private byName = new Map<string, number>();

  constructor(protected readonly gate: WriteGate) {}

  /** Writes a new user; returns it with its id. */
  protected abstract insertRecord(input: Omit<UserRecord, 'id'>): Promise<UserRecord>;
  /** Replaces the stored record (its name may change). */
  protected abstract writeRecord(cur: UserRecord, next: UserRecord): Promise<void>;
  /** Deletes the user with everything it owns, and drops what it owned from the other caches. */
  protected abstract deleteRecord(cur: UserRecord): Promise<void>;

  protected remember(u: UserRecord): void {
    this.byId.set(u.id, u);
    this.byName.set(u.name, u.id);
  }

  private forget(u: UserRecord): void {
    this.byId.delete(u.id);
    if (this.byName.get(u.name) === u.id) this.byName.delete(u.name);
  }

  /** Makes memory hold `fresh` (undefined: gone) for `id`, as the database now does; returns what it held. */
  protected adopt(id: number, fresh: UserRecord | undefined): UserRecord | undefined {
    const prev = this.byId.get(id);
    if (prev) this.forget(prev);
    if (fresh) this.remember(fresh);
    return prev;
  }

  /** Replaces the whole memory copy; returns the users that are gone. */
  protected adoptAll(rows: UserRecord[]): UserRecord[] {
    const keep = new Set(rows.map((r) => r.id));
    const gone = [...this.byId.values()].filter((u) => !keep.has(u.id));
    for (const u of gone) this.forget(u);
    for (const r of rows) this.adopt(r.id, r);
    return gone;
  }

  get(id: number): UserRecord | undefined {
    return this.byId.get(id);
  }

  getByName(name: string): UserRecord | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** All users ordered by id. */
  list(): UserRecord[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  countAdmins(): number {
    let n = 0;
    for (const u of this.byId.values()) if (u.admin) n++;
    return n;
  }

  /** Throws FLOW_ERR_STORE_CONFLICT when the name is taken. */
  create(input: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    return this.gate.exclusive(async () => {
      if (this.byName.has(input.name)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'username already exists');
      const rec = await this.insertRecord(input);
      this.remember(rec);
      return rec;
    });
  }

  /**
   * Replaces the record (name, admin, passHash). `change` runs inside the lock against the
   * current record, so rules such as "keep one admin" cannot race with another change.
   */
  update(id: number, change: (cur: UserRecord) => UserRecord): Promise<UserRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      const next = { ...change(cur), id };
      if (next.name !== cur.name && this.byName.has(next.name)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'username already exists');
      await this.writeRecord(cur, next);
      this.adopt(id, next);
      return next;
    });
  }

  /**
   * Deletes the user with its applications (their messages marked deleted), clients and plugin
   * confs atomically. `check` runs inside the lock first and may throw (e.g. last admin).
   */
  delete(id: number, check?: (cur: UserRecord) => void): Promise<UserRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      check?.(cur);
      await this.deleteRecord(cur);
      this.forget(cur);
      return cur;
    });
  }

  private current(id: number): UserRecord {
    const cur = this.byId.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'user does not exist');
    return cur;
  }
}
