import { type Db } from './db.js';
import { type Op, pad, prefixEnd, put, del } from './ops.js';

// Keys: m-purge!u!<userId> → {"upTo"}; m-purge!a!<appId> → {"upTo","userId"}.
// A mark says "every message of this user (application) with id ≤ upTo is deleted". It is
// written in the same batch as whatever caused the delete (the user or application record
// removal, or nothing else for DELETE /message and retention), so the delete is visible at
// once and atomically; the purger then removes the keys in chunks and finally the mark.
const PREFIX = 'm-purge!';
const USER = PREFIX + 'u!';
const APP = PREFIX + 'a!';

export interface UserMark {
  kind: 'user';
  userId: number;
  upTo: number;
}

export interface AppMark {
  kind: 'app';
  appId: number;
  userId: number;
  upTo: number;
}

export type PurgeMark = UserMark | AppMark;

/**
 * The pending message deletes, in memory (read on every listing) and in LevelDB (so a restart
 * resumes them). Message ids are never reused, so "id ≤ upTo" names exactly the messages that
 * existed when the delete was accepted; later messages of the same user or application stay visible.
 */
export class PurgeMarks {
  private users = new Map<number, UserMark>();
  private apps = new Map<number, AppMark>();
  /** userId → its applications with a mark (listing a user's messages filters these out). */
  private appsByUser = new Map<number, Map<number, AppMark>>();

  async load(db: Db): Promise<void> {
    for await (const [k, v] of db.level.iterator({ gte: PREFIX, lt: prefixEnd(PREFIX) })) {
      const { upTo, userId } = JSON.parse(v) as { upTo: number; userId?: number };
      if (k.startsWith(USER)) this.setUser({ kind: 'user', userId: Number(k.slice(USER.length)), upTo });
      else if (k.startsWith(APP)) this.setApp({ kind: 'app', appId: Number(k.slice(APP.length)), userId: userId ?? 0, upTo });
    }
  }

  /** Messages of the user with id ≤ this are deleted (0: none). */
  userUpTo(userId: number): number {
    return this.users.get(userId)?.upTo ?? 0;
  }

  appUpTo(appId: number): number {
    return this.apps.get(appId)?.upTo ?? 0;
  }

  /** The marks of the user's applications, or undefined when there are none (the common case). */
  appMarksOfUser(userId: number): ReadonlyMap<number, AppMark> | undefined {
    const m = this.appsByUser.get(userId);
    return m && m.size > 0 ? m : undefined;
  }

  isVisible(m: { id: number; appId: number; userId: number }): boolean {
    return m.id > this.userUpTo(m.userId) && m.id > this.appUpTo(m.appId);
  }

  /** Any pending mark, users first (a user's purge also covers its applications' marks). */
  next(): PurgeMark | undefined {
    for (const m of this.users.values()) return m;
    for (const m of this.apps.values()) return m;
    return undefined;
  }

  get size(): number {
    return this.users.size + this.apps.size;
  }

  /**
   * The op raising the user's mark to `upTo`, or undefined when it is already that high (a delete
   * of what is already being deleted does no new work). Call `commit` with the returned mark after
   * the batch succeeded.
   */
  raiseUser(userId: number, upTo: number): { op: Op; mark: UserMark } | undefined {
    if (upTo <= this.userUpTo(userId)) return undefined;
    const mark: UserMark = { kind: 'user', userId, upTo };
    return { op: put(USER + pad(userId), { upTo }), mark };
  }

  raiseApp(appId: number, userId: number, upTo: number): { op: Op; mark: AppMark } | undefined {
    if (upTo <= this.appUpTo(appId) || upTo <= this.userUpTo(userId)) return undefined;
    const mark: AppMark = { kind: 'app', appId, userId, upTo };
    return { op: put(APP + pad(appId), { upTo, userId }), mark };
  }

  commit(mark: PurgeMark): void {
    if (mark.kind === 'user') this.setUser(mark);
    else this.setApp(mark);
  }

  /** The op removing a finished mark (only while it is still the current one). */
  clearOp(mark: PurgeMark): Op {
    return del(mark.kind === 'user' ? USER + pad(mark.userId) : APP + pad(mark.appId));
  }

  isCurrent(mark: PurgeMark): boolean {
    return (mark.kind === 'user' ? this.users.get(mark.userId) : this.apps.get(mark.appId)) === mark;
  }

  /** After `clearOp` was committed. */
  remove(mark: PurgeMark): void {
    if (mark.kind === 'user') {
      if (this.users.get(mark.userId) === mark) this.users.delete(mark.userId);
      return;
    }
    if (this.apps.get(mark.appId) !== mark) return;
    this.apps.delete(mark.appId);
    const byUser = this.appsByUser.get(mark.userId);
    byUser?.delete(mark.appId);
    if (byUser?.size === 0) this.appsByUser.delete(mark.userId);
  }

  private setUser(mark: UserMark): void {
    this.users.set(mark.userId, mark);
  }

  private setApp(mark: AppMark): void {
    this.apps.set(mark.appId, mark);
    let byUser = this.appsByUser.get(mark.userId);
    if (!byUser) this.appsByUser.set(mark.userId, (byUser = new Map()));
    byUser.set(mark.appId, mark);
  }
}
