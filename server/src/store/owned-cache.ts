import { RecordCache } from './record-cache.js';

/** A record that belongs to one user and is found by its secret token (application, client, plugin conf). */
export interface OwnedRecord {
  id: number;
  userId: number;
  token: string;
}

/**
 * The memory copy of one entity's owned records (`RecordCache`) with its token index and
 * per-user index.
 */
export class OwnedCache<T extends OwnedRecord> extends RecordCache<T> {
  private byToken = new Map<string, number>();
  private byUser = new Map<number, Set<number>>();

  constructor() {
    super();
    this.addIndex({
      add: (r) => {
        this.byToken.set(r.token, r.id);
        this.index(r.userId, r.id);
      },
      remove: (r) => {
        this.byToken.delete(r.token);
        this.byUser.get(r.userId)?.delete(r.id);
      },
    });
  }

  protected index(userId: number, id: number): void {
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(id);
  }

  protected indexToken(token: string, id: number): void {
    this.byToken.set(token, id);
  }

  getByToken(token: string): T | undefined {
    const id = this.byToken.get(token);
    return id === undefined ? undefined : this.get(id);
  }

  /** The user's records ordered by id. */
  listByUser(userId: number): T[] {
    return [...(this.byUser.get(userId) ?? [])].sort((a, b) => a - b).map((id) => this.get(id)!);
  }

  /** After a token rotation was committed. */
  retoken(cur: T, next: T): void {
    this.byToken.delete(cur.token);
    this.byToken.set(next.token, next.id);
    this.set(next);
  }

  /** After every record of the user was deleted (the user cascade). */
  removeUser(userId: number): void {
    for (const r of this.listByUser(userId)) this.remove(r);
    this.byUser.delete(userId);
  }
}
