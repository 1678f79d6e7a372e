import { FlowError } from '../errors.js';
import type { ApplicationRecord } from '../model/application.js';
import { type CascadePart, type Db, type Op, pad, put, putRaw, del } from './db.js';
import type { MessageStore } from './message.js';
import { keyAfter } from './sort-key.js';

// Keys: a!<id> → record; a-tok!<token> → id; u-a!<userId>!<id> → ''; a-lu!<id> → lastUsed.
// lastUsed has its own key because it is written by message inserts, outside the store lock:
// rewriting the whole record there could undo a concurrent rename.
const REC = 'a!';
const LAST_USED = 'a-lu!';
const BY_TOKEN = 'a-tok!';
const BY_USER = 'u-a!';

/**
 * Applications, cached in memory (POST /message resolves its token on every call). Deleting
 * an application deletes its messages in the same batch.
 */
export class ApplicationStore {
  private byId = new Map<number, ApplicationRecord>();
  private byToken = new Map<string, number>();
  private byUser = new Map<number, Set<number>>();
  /** Apps being deleted: message inserts for them are refused while the cascade runs. */
  private closing = new Set<number>();

  constructor(
    private readonly db: Db,
    private readonly messages: () => MessageStore,
  ) {}

  async load(): Promise<void> {
    for (const [, v] of await this.db.entries(REC)) {
      const a = JSON.parse(v) as ApplicationRecord;
      this.byId.set(a.id, a);
    }
    for (const [k, v] of await this.db.entries(BY_TOKEN)) this.byToken.set(k.slice(BY_TOKEN.length), Number(v));
    for (const [k, v] of await this.db.entries(LAST_USED)) {
      const a = this.byId.get(Number(k.slice(LAST_USED.length)));
      if (a) a.lastUsed = v;
    }
    for (const k of await this.db.keys(BY_USER)) {
      const [uid, id] = k.slice(BY_USER.length).split('!').map(Number) as [number, number];
      this.index(uid, id);
    }
  }

  private index(userId: number, id: number): void {
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(id);
  }

  get(id: number): ApplicationRecord | undefined {
    return this.byId.get(id);
  }

  getByToken(token: string): ApplicationRecord | undefined {
    const id = this.byToken.get(token);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** True while messages may be added to the application (it exists and is not being deleted). */
  acceptsMessages(id: number): boolean {
    return this.byId.has(id) && !this.closing.has(id);
  }

  /** The user's applications ordered by (sortKey, id), as Gotify lists them. */
  listByUser(userId: number): ApplicationRecord[] {
    return [...(this.byUser.get(userId) ?? [])]
      .map((id) => this.byId.get(id)!)
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.id - b.id));
  }

  private sortKeyTaken(userId: number, key: string, exceptId = 0): boolean {
    return this.listByUser(userId).some((a) => a.sortKey === key && a.id !== exceptId);
  }

  /**
   * Creates the application; an empty sortKey is placed after the user's last one.
   * Throws FLOW_ERR_STORE_CONFLICT for a duplicate token or sort key.
   */
  create(input: Omit<ApplicationRecord, 'id'>): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      if (this.byToken.has(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      let sortKey = input.sortKey;
      if (sortKey === '') {
        const apps = this.listByUser(input.userId);
        sortKey = keyAfter(apps.reduce((max, a) => (a.sortKey > max ? a.sortKey : max), ''));
      } else if (this.sortKeyTaken(input.userId, sortKey)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
      }
      const { id, op } = this.db.nextId('application');
      const rec: ApplicationRecord = { ...input, id, sortKey };
      await this.db.batch([
        op,
        put(REC + pad(id), rec),
        putRaw(BY_TOKEN + rec.token, String(id)),
        putRaw(BY_USER + pad(rec.userId) + '!' + pad(id), ''),
      ]);
      this.byId.set(id, rec);
      this.byToken.set(rec.token, id);
      this.index(rec.userId, id);
      return rec;
    });
  }

  /** Changes mutable fields; id, token and owner never change. */
  update(
    id: number,
    patch: Partial<Pick<ApplicationRecord, 'name' | 'description' | 'defaultPriority' | 'sortKey' | 'image' | 'internal' | 'lastUsed'>>,
  ): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', `app with id ${id} doesn't exists`);
      if (patch.sortKey !== undefined && patch.sortKey !== cur.sortKey && this.sortKeyTaken(cur.userId, patch.sortKey, id)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'sort key is not unique');
      }
      const next = { ...cur, ...patch };
      await this.db.batch([put(REC + pad(id), next)]);
      // A message may have touched lastUsed while the batch ran.
      const fresh = { ...next, lastUsed: this.byId.get(id)?.lastUsed ?? next.lastUsed };
      this.byId.set(id, fresh);
      return fresh;
    });
  }

  /**
   * Bookkeeping write that piggybacks on a message batch: returns the op for the lastUsed key and
   * applies the value to memory at once (a lost lastUsed update is harmless).
   */
  touchOp(id: number, lastUsed: string): Op | undefined {
    const cur = this.byId.get(id);
    if (!cur) return undefined;
    this.byId.set(id, { ...cur, lastUsed });
    return putRaw(LAST_USED + pad(id), lastUsed);
  }

  /** Deletes the application and its messages in one batch; `check` may veto inside the lock. */
  delete(id: number, check?: (cur: ApplicationRecord) => void): Promise<ApplicationRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', `app with id ${id} doesn't exists`);
      check?.(cur);
      this.closing.add(id);
      try {
        await this.db.drain();
        const msgOps = await this.messages().deleteByApplicationOps(id, cur.userId);
        await this.db.batch([...this.recordOps(cur), ...msgOps]);
        this.forget(cur);
        return cur;
      } finally {
        this.closing.delete(id);
      }
    });
  }

  private recordOps(a: ApplicationRecord): Op[] {
    return [del(REC + pad(a.id)), del(BY_TOKEN + a.token), del(BY_USER + pad(a.userId) + '!' + pad(a.id)), del(LAST_USED + pad(a.id))];
  }

  private forget(a: ApplicationRecord): void {
    this.byId.delete(a.id);
    this.byToken.delete(a.token);
    this.byUser.get(a.userId)?.delete(a.id);
  }

  /**
   * For the user cascade (inside the lock): ops deleting every app of the user and all the
   * user's messages. Message inserts for these apps are refused from here on; the caller runs
   * `commit` after the batch succeeded, or `abort` when it failed.
   */
  async deleteAllOfUserOps(userId: number): Promise<CascadePart> {
    const apps = this.listByUser(userId);
    for (const a of apps) this.closing.add(a.id);
    const reopen = () => {
      for (const a of apps) this.closing.delete(a.id);
    };
    try {
      await this.db.drain();
      const ops = [...apps.flatMap((a) => this.recordOps(a)), ...(await this.messages().deleteByUserOps(userId))];
      return {
        ops,
        commit: () => {
          for (const a of apps) this.forget(a);
          this.byUser.delete(userId);
          reopen();
        },
        abort: reopen,
      };
    } catch (err) {
      reopen();
      throw err;
    }
  }
}
