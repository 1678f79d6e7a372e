import { type Db, type Op, pad, put, putRaw, del } from './db.js';

/** A record that belongs to one user and is found by its secret token (application, client, plugin conf). */
export interface OwnedRecord {
  id: number;
  userId: number;
  token: string;
}

/**
 * The memory copy of one entity's records with its token index and per-user index, and the
 * LevelDB ops that keep the three keys of a record together:
 * `<rec><id>` → record JSON; `<byToken><token>` → id; `<byUser><userId>!<id>` → ''.
 *
 * It takes no lock and never writes: the owning store checks its rules inside `db.exclusive`,
 * commits the ops in one batch, and only then calls `add`/`set`/`remove` (write-through).
 */
export class OwnedRecords<T extends OwnedRecord> {
  private byId = new Map<number, T>();
  private byToken = new Map<string, number>();
  private byUser = new Map<number, Set<number>>();

  constructor(private readonly prefix: { rec: string; byToken: string; byUser: string }) {}

  /** Fills memory from the three key ranges; call once at open. */
  async load(db: Db): Promise<void> {
    const { rec, byToken, byUser } = this.prefix;
    for (const [, v] of await db.entries(rec)) {
      const r = JSON.parse(v) as T;
      this.byId.set(r.id, r);
    }
    for (const [k, v] of await db.entries(byToken)) this.byToken.set(k.slice(byToken.length), Number(v));
    for (const k of await db.keys(byUser)) {
      const [uid, id] = k.slice(byUser.length).split('!').map(Number) as [number, number];
      this.index(uid, id);
    }
  }

  private index(userId: number, id: number): void {
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(id);
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

  /** Ops writing a new record with both index keys. */
  insertOps(r: T): Op[] {
    const { rec, byToken, byUser } = this.prefix;
    return [put(rec + pad(r.id), r), putRaw(byToken + r.token, String(r.id)), putRaw(byUser + pad(r.userId) + '!' + pad(r.id), '')];
  }

  /** Op rewriting the record only: token and owner never change, so the index keys stay. */
  updateOp(r: T): Op {
    return put(this.prefix.rec + pad(r.id), r);
  }

  /** Ops deleting the record and both index keys. */
  deleteOps(r: T): Op[] {
    const { rec, byToken, byUser } = this.prefix;
    return [del(rec + pad(r.id)), del(byToken + r.token), del(byUser + pad(r.userId) + '!' + pad(r.id))];
  }

  /** Ops replacing the record's token (rotation): the record and the token index key. */
  retokenOps(cur: T, next: T): Op[] {
    const { rec, byToken } = this.prefix;
    return [put(rec + pad(next.id), next), del(byToken + cur.token), putRaw(byToken + next.token, String(next.id))];
  }

  /** After `retokenOps` were committed. */
  retoken(cur: T, next: T): void {
    this.byToken.delete(cur.token);
    this.byToken.set(next.token, next.id);
    this.byId.set(next.id, next);
  }

  /** After `insertOps` were committed. */
  add(r: T): void {
    this.byId.set(r.id, r);
    this.byToken.set(r.token, r.id);
    this.index(r.userId, r.id);
  }

  /** Replaces a record whose token and owner are unchanged. */
  set(r: T): void {
    this.byId.set(r.id, r);
  }

  /** After `deleteOps` were committed. */
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
}
