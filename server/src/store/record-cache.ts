/** An index kept beside a `RecordCache`: told of each record that comes into memory and goes out of it. */
export interface RecordIndex<T> {
  add(r: T): void;
  remove(r: T): void;
}

/**
 * The memory copy of one entity's records by id, with the indexes kept beside it, shared by both
 * backends and every cached entity. It takes no lock and never writes: the owning store checks
 * its rules under its lock, commits, and only then calls `add`/`set`/`remove` (write-through);
 * `adopt`/`adoptAll` make memory follow what the database holds after another replica changed it.
 */
export class RecordCache<T extends { id: number }> {
  private readonly byId = new Map<number, T>();
  private readonly indexes: RecordIndex<T>[] = [];

  /** Keeps `index` up to date from now on (records already held are not replayed). */
  addIndex(index: RecordIndex<T>): void {
    this.indexes.push(index);
  }

  get(id: number): T | undefined {
    return this.byId.get(id);
  }

  /** Every record, in no particular order. */
  values(): IterableIterator<T> {
    return this.byId.values();
  }

  /** All records ordered by id. */
  list(): T[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  /** After an insert was committed (or when loading). */
  add(r: T): void {
    this.byId.set(r.id, r);
    for (const index of this.indexes) index.add(r);
  }

  /** Replaces a record whose indexed fields are unchanged. */
  set(r: T): void {
    this.byId.set(r.id, r);
  }

  /** After a delete was committed. */
  remove(r: T): void {
    this.byId.delete(r.id);
    for (const index of this.indexes) index.remove(r);
  }

  /** Makes memory hold `fresh` (undefined: gone) for `id`, as the database now does; returns what it held. */
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
