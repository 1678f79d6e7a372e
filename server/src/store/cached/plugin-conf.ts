import { FlowError } from '../../errors.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { WriteFence } from '../message.js';
import type { PluginConfPatch, PluginConfStore } from '../plugin-conf.js';
import { OwnedCache } from '../owned-cache.js';
import { SharedTexts } from '../shared-texts.js';
import type { WriteGate } from '../write-gate.js';

const pathKey = (userId: number, modulePath: string) => `${userId}!${modulePath}`;

/** What `create` takes: enabled false unless given. */
export type PluginConfInput = Omit<PluginConfRecord, 'id' | 'createdAt' | 'enabled'> & { enabled?: boolean };

/**
 * Plugin confs served from memory (webhooks look them up by token), the same for both
 * backends: the token and (user, module) indexes, shared config texts, the uniqueness rules
 * checked under the store's lock and the write-through after commit. A backend supplies the
 * record writes and the storage and key-value entries, which are never cached.
 */
export abstract class CachedPluginConfStore implements PluginConfStore {
  private byPath = new Map<string, number>();
  private texts = new SharedTexts();

  constructor(
    protected readonly gate: WriteGate,
    protected readonly records: OwnedCache<PluginConfRecord> = new OwnedCache(),
  ) {}

  /** Writes the new conf (its `id` is 0); returns the id it got. */
  protected abstract insertRecord(draft: PluginConfRecord): Promise<number>;
  protected abstract writeRecord(next: PluginConfRecord, fence?: WriteFence): Promise<void>;
  /** Deletes the conf with its storage and kv entries. */
  protected abstract deleteRecord(cur: PluginConfRecord): Promise<void>;

  abstract getStorage(id: number): Promise<Buffer>;
  abstract setStorage(id: number, data: Uint8Array): Promise<void>;
  abstract kvGet(id: number, key: string): Promise<unknown>;
  abstract kvList(id: number): Promise<Record<string, unknown>>;
  abstract kvKeys(id: number, prefix?: string): Promise<string[]>;
  abstract kvUsage(id: number): Promise<{ keys: number; bytes: number }>;
  abstract kvSet(id: number, key: string, value: unknown): Promise<void>;

  kvDelete(id: number, key: string): Promise<void> {
    return this.kvSet(id, key, undefined);
  }

  protected remember(p: PluginConfRecord): void {
    p.config = this.texts.share(p.config);
    this.records.add(p);
    this.byPath.set(pathKey(p.userId, p.modulePath), p.id);
  }

  private forget(p: PluginConfRecord): void {
    this.texts.release(p.config);
    this.records.remove(p);
    this.byPath.delete(pathKey(p.userId, p.modulePath));
  }

  /** Makes memory hold `fresh` (undefined: gone) for `id`, as the database now does; returns what it held. */
  protected adopt(id: number, fresh: PluginConfRecord | undefined): PluginConfRecord | undefined {
    const prev = this.records.get(id);
    if (prev) this.forget(prev);
    if (fresh) this.remember(fresh);
    return prev;
  }

  /** Replaces the whole memory copy; returns the confs that are gone. */
  protected adoptAll(rows: PluginConfRecord[]): PluginConfRecord[] {
    const keep = new Set(rows.map((r) => r.id));
    const gone = [...this.records.values()].filter((p) => !keep.has(p.id));
    for (const p of gone) this.forget(p);
    for (const r of rows) this.adopt(r.id, r);
    return gone;
  }

  get(id: number): PluginConfRecord | undefined {
    return this.records.get(id);
  }

  getByToken(token: string): PluginConfRecord | undefined {
    return this.records.getByToken(token);
  }

  getByUserAndPath(userId: number, modulePath: string): PluginConfRecord | undefined {
    const id = this.byPath.get(pathKey(userId, modulePath));
    return id === undefined ? undefined : this.records.get(id);
  }

  /** The user's confs ordered by id. */
  listByUser(userId: number): PluginConfRecord[] {
    return this.records.listByUser(userId);
  }

  /** Every conf ordered by id. */
  list(): PluginConfRecord[] {
    return [...this.records.values()].sort((a, b) => a.id - b.id);
  }

  /** FLOW_ERR_STORE_CONFLICT when the token exists or the user already has a conf for the module. */
  create(input: PluginConfInput): Promise<PluginConfRecord> {
    return this.gate.exclusive(async () => {
      if (this.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      if (this.getByUserAndPath(input.userId, input.modulePath)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', `user ${input.userId} already has a conf for ${input.modulePath}`);
      }
      const draft: PluginConfRecord = { ...input, id: 0, enabled: input.enabled ?? false, createdAt: new Date().toISOString() };
      const rec = { ...draft, id: await this.insertRecord(draft) };
      this.remember(rec);
      return rec;
    });
  }

  /** Changes enabled, config or applicationId. */
  update(id: number, patch: PluginConfPatch, fence?: WriteFence): Promise<PluginConfRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      const next = { ...cur, ...patch };
      await this.writeRecord(next, fence);
      next.config = this.texts.share(next.config);
      this.texts.release(cur.config);
      this.records.set(next);
      return next;
    });
  }

  delete(id: number): Promise<PluginConfRecord> {
    return this.gate.exclusive(async () => {
      const cur = this.current(id);
      await this.deleteRecord(cur);
      this.forget(cur);
      return cur;
    });
  }

  /** The conf, or FLOW_ERR_NOT_FOUND. */
  protected current(id: number): PluginConfRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'unknown plugin');
    return cur;
  }

  /** After the user's confs were deleted with it. */
  forgetUser(userId: number): void {
    for (const p of this.listByUser(userId)) this.forget(p);
  }
}
