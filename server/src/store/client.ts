import { FlowError } from '../errors.js';
import type { ClientRecord } from '../model/client.js';
import { type CascadePart, type Db, type Op, pad, put, putRaw, del } from './db.js';

// Keys: c!<id> → record; c-tok!<token> → id; u-c!<userId>!<id> → ''.
const REC = 'c!';
const BY_TOKEN = 'c-tok!';
const BY_USER = 'u-c!';

/** Clients, cached in memory like users (a token lookup runs on every authenticated request). */
export class ClientStore {
  private byId = new Map<number, ClientRecord>();
  private byToken = new Map<string, number>();
  private byUser = new Map<number, Set<number>>();

  constructor(private readonly db: Db) {}

  async load(): Promise<void> {
    for (const [, v] of await this.db.entries(REC)) {
      const c = JSON.parse(v) as ClientRecord;
      this.byId.set(c.id, c);
    }
    for (const [k, v] of await this.db.entries(BY_TOKEN)) this.byToken.set(k.slice(BY_TOKEN.length), Number(v));
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

  get(id: number): ClientRecord | undefined {
    return this.byId.get(id);
  }

  getByToken(token: string): ClientRecord | undefined {
    const id = this.byToken.get(token);
    return id === undefined ? undefined : this.byId.get(id);
  }

  listByUser(userId: number): ClientRecord[] {
    return [...(this.byUser.get(userId) ?? [])].sort((a, b) => a - b).map((id) => this.byId.get(id)!);
  }

  /** Throws FLOW_ERR_STORE_CONFLICT when the token exists (the caller draws a new one). */
  create(input: Omit<ClientRecord, 'id'>): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      if (this.byToken.has(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      const { id, op } = this.db.nextId('client');
      const rec: ClientRecord = { id, ...input };
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

  /** Updates mutable fields (name, lastUsed); token and owner never change. */
  update(id: number, patch: Partial<Pick<ClientRecord, 'name' | 'lastUsed'>>): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'client does not exist');
      const next = { ...cur, ...patch };
      await this.db.batch([put(REC + pad(id), next)]);
      this.byId.set(id, next);
      return next;
    });
  }

  delete(id: number): Promise<ClientRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'client does not exist');
      await this.db.batch(this.recordOps(cur));
      this.forget(cur);
      return cur;
    });
  }

  private recordOps(c: ClientRecord): Op[] {
    return [del(REC + pad(c.id)), del(BY_TOKEN + c.token), del(BY_USER + pad(c.userId) + '!' + pad(c.id))];
  }

  private forget(c: ClientRecord): void {
    this.byId.delete(c.id);
    this.byToken.delete(c.token);
    this.byUser.get(c.userId)?.delete(c.id);
  }

  /** For the user cascade (already inside the lock): the ops, and what to apply to memory after commit. */
  deleteAllOfUserOps(userId: number): CascadePart {
    const all = this.listByUser(userId);
    return {
      ops: all.flatMap((c) => this.recordOps(c)),
      commit: () => {
        for (const c of all) this.forget(c);
        this.byUser.delete(userId);
      },
      abort: () => undefined,
    };
  }
}
