/** A record that belongs to one user and is found by its secret token (application, client, plugin conf). */
export interface OwnedRecord {
  id: number;
  userId: number;
  token: string;
}

/**
 * The memory copy of one entity's records with its token index and per-user index, shared by
 * both backends. It takes no lock and never writes: the owning store checks its rules under its
 * lock, commits, and only then calls `add`/`set`/`remove` (write-through).
 */
export class OwnedCache<T extends OwnedRecord> {
  private byId = new Map<number, T>();
  private byToken = new Map<string, number>();
  private byUser = new Map<number, Set<number>>();

  protected index(userId: number, id: number): void {
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(id);
  }

  protected indexToken(token: string, id: number): void {
    this.byToken.set(token, id);
  }

  get(id: number): T | undefined {
    return this.byId.get(id);
  }

  getByToken(token: string): T | undefined {
    const id = this.byToken.get(token);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** The user's records ordered by id. */
  listByUser(userId: number): T[] {
    return [...(this.byUser.get(userId) ?? [])].sort((a, b) => a - b).map((id) => this.byId.get(id)!);
  }

  /** Every record, in no particular order. */
  values(): IterableIterator<T> {
    return this.byId.values();
  }

  /** After a token rotation was committed. */
  retoken(cur: T, next: T): void {
    this.byToken.delete(cur.token);
    this.byToken.set(next.token, next.id);
    this.byId.set(next.id, next);
  }

  /** After an insert was committed (or when loading). */
  add(r: T): void {
    this.byId.set(r.id, r);
    this.byToken.set(r.token, r.id);
    this.index(r.userId, r.id);
  }

  /** Replaces a record whose token and owner are unchanged. */
  set(r: T): void {
    this.byId.set(r.id, r);
  }

  /** After a delete was committed. */
  remove(r: T): void {
    this.byId.delete(r.id);
    this.byToken.delete(r.token);
    this.byUser.get(r.userId)?.delete(r.id);
  }

  /** After every record of the user was deleted (the user cascade). */
  removeUser(userId: number): void {
    for (const r of this.listByUser(userId)) this.remove(r);
    this.byUser.delete(userId);
  }

  /** Makes memory hold `fresh` (undefined: gone) for `id`, as the database now does (another replica changed it); returns what it held. */
  adopt(id: number, fresh: T | undefined): T | undefined {
    const prev = this.byId.get(id);
    if (prev) this.remove(prev);
    if (fresh) this.add(fresh);
    return prev;
  }

  /** Replaces every record by `rows` (changes may have been missed); returns the records that are gone. */
  adoptAll(rows: T[]): T[] {
    const keep = new Set(rows.map((r) => r.id));
    const gone = [...this.byId.values()].filter((r) => !keep.has(r.id));
    for (const r of gone) this.remove(r);
    for (const r of rows) this.adopt(r.id, r);
    return gone;
  }
}
