import type { PluginConfStore } from '../plugin-conf.js';
import { FlowError } from '../../errors.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import { type Db } from './db.js';
import { type CascadePart, type Op, pad, prefixEnd, put, putRaw, del } from './ops.js';
import { OwnedRecords } from './owned-records.js';
import { SharedTexts } from '../shared-texts.js';

// Keys: p!<id> → record; p-tok!<token> → id; u-p!<userId>!<id> → ''; u-pm!<userId>!<modulePath> → id;
// p-st!<id> → storage (base64); p-kv!<id>!<key> → JSON value.
const BY_PATH = 'u-pm!';
const STORAGE = 'p-st!';
const KV = 'p-kv!';

const pathKey = (userId: number, modulePath: string) => BY_PATH + pad(userId) + '!' + modulePath;
const kvPrefix = (id: number) => KV + pad(id) + '!';

/**
 * Plugin confs: one per (user, plugin module). Records are cached in memory; `storage` and the
 * key-value entries are read and written as their own LevelDB keys, so a plugin's state
 * changes never rewrite the conf record (and vice versa).
 */
export class LevelPluginConfStore implements PluginConfStore {
  // Webhook requests look confs up by token, so the indexes are mirrored in memory too.
  private records = new OwnedRecords<PluginConfRecord>({ rec: 'p!', byToken: 'p-tok!', byUser: 'u-p!' });
  private byPath = new Map<string, number>();
  private texts = new SharedTexts();

  constructor(private readonly db: Db) {}

  async load(): Promise<void> {
    await this.records.load(this.db);
    for (const rec of this.records.values()) rec.config = this.texts.share(rec.config);
    for (const [k, v] of await this.db.entries(BY_PATH)) this.byPath.set(k, Number(v));
  }

  private forget(p: PluginConfRecord): void {
    this.texts.release(p.config);
    this.records.remove(p);
    this.byPath.delete(pathKey(p.userId, p.modulePath));
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

  /**
   * Creates a conf (enabled false unless given). Throws FLOW_ERR_STORE_CONFLICT when the token
   * exists or the user already has a conf for the module.
   */
  create(input: Omit<PluginConfRecord, 'id' | 'createdAt' | 'enabled'> & { enabled?: boolean }): Promise<PluginConfRecord> {
    return this.db.exclusive(async () => {
      if (this.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      if (this.getByUserAndPath(input.userId, input.modulePath)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', `user ${input.userId} already has a conf for ${input.modulePath}`);
      }
      const { id, op } = this.db.nextId('pluginconf');
      const rec: PluginConfRecord = { ...input, id, enabled: input.enabled ?? false, createdAt: new Date().toISOString() };
      await this.db.batch([op, ...this.records.insertOps(rec), putRaw(pathKey(rec.userId, rec.modulePath), String(id))]);
      rec.config = this.texts.share(rec.config);
      this.records.add(rec);
      this.byPath.set(pathKey(rec.userId, rec.modulePath), id);
      return rec;
    });
  }

  /**
   * Ops writing a record with its own id, and its storage blob, into a data dir being built
   * offline (import); memory is not touched.
   */
  importOps(rec: PluginConfRecord, storage: Uint8Array, kv: Record<string, unknown> = {}): Op[] {
    const ops = [...this.records.insertOps(rec), putRaw(pathKey(rec.userId, rec.modulePath), String(rec.id))];
    if (storage.length > 0) ops.push(putRaw(STORAGE + pad(rec.id), Buffer.from(storage).toString('base64')));
    for (const [k, v] of Object.entries(kv)) ops.push(put(kvPrefix(rec.id) + k, v));
    return ops;
  }

  /** Changes enabled, config or applicationId. */
  update(id: number, patch: Partial<Pick<PluginConfRecord, 'enabled' | 'config' | 'applicationId'>>): Promise<PluginConfRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      const next = { ...cur, ...patch };
      await this.db.batch([this.records.updateOp(next)]);
      next.config = this.texts.share(next.config);
      this.texts.release(cur.config);
      this.records.set(next);
      return next;
    });
  }

  /** The plugin's opaque storage blob; empty when never set. */
  async getStorage(id: number): Promise<Buffer> {
    const v = await this.db.getRaw(STORAGE + pad(id));
    return v === undefined ? Buffer.alloc(0) : Buffer.from(v, 'base64');
  }

  setStorage(id: number, data: Uint8Array): Promise<void> {
    return this.db.exclusive(async () => {
      if (!this.records.get(id)) throw new FlowError('FLOW_ERR_NOT_FOUND', 'unknown plugin');
      await this.db.batch([putRaw(STORAGE + pad(id), Buffer.from(data).toString('base64'))]);
    });
  }

  async kvGet(id: number, key: string): Promise<unknown> {
    return this.db.get<unknown>(kvPrefix(id) + key);
  }

  /** All entries of the instance, ordered by key. */
  async kvList(id: number): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const prefix = kvPrefix(id);
    for (const [k, v] of await this.db.entries(prefix)) out[k.slice(prefix.length)] = JSON.parse(v);
    return out;
  }

  /** The instance's keys starting with `prefix`, without reading their values. */
  async kvKeys(id: number, prefix = ''): Promise<string[]> {
    const base = kvPrefix(id);
    const keys = await this.db.keys(base + prefix);
    return keys.map((k) => k.slice(base.length));
  }

  /** Number of keys and UTF-8 bytes of keys + values as stored, streamed (nothing is kept). */
  async kvUsage(id: number): Promise<{ keys: number; bytes: number }> {
    const base = kvPrefix(id);
    let keys = 0;
    let bytes = 0;
    for await (const [k, v] of this.db.level.iterator({ gte: base, lt: prefixEnd(base) })) {
      keys++;
      const value = JSON.parse(v) as unknown;
      bytes += Buffer.byteLength(k, 'utf8') - base.length + Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
    }
    return { keys, bytes };
  }

  /** Sets one key (a JSON-serialisable value); `undefined` deletes it. */
  kvSet(id: number, key: string, value: unknown): Promise<void> {
    return this.db.exclusive(async () => {
      if (!this.records.get(id)) throw new FlowError('FLOW_ERR_NOT_FOUND', 'unknown plugin');
      await this.db.batch([value === undefined ? del(kvPrefix(id) + key) : put(kvPrefix(id) + key, value)]);
    });
  }

  kvDelete(id: number, key: string): Promise<void> {
    return this.kvSet(id, key, undefined);
  }

  private async recordOps(p: PluginConfRecord): Promise<Op[]> {
    const kvKeys = await this.db.keys(kvPrefix(p.id));
    return [
      ...this.records.deleteOps(p),
      del(pathKey(p.userId, p.modulePath)),
      del(STORAGE + pad(p.id)),
      ...kvKeys.map((k) => del(k)),
    ];
  }

  /** Deletes one conf with its storage and kv entries. */
  delete(id: number): Promise<PluginConfRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      await this.db.batch(await this.recordOps(cur));
      this.forget(cur);
      return cur;
    });
  }

  /** The conf, or FLOW_ERR_NOT_FOUND. */
  private current(id: number): PluginConfRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'unknown plugin');
    return cur;
  }

  /** For the user cascade (inside the lock). */
  async deleteAllOfUserOps(userId: number): Promise<CascadePart> {
    const confs = this.listByUser(userId);
    const ops: Op[] = [];
    for (const p of confs) ops.push(...(await this.recordOps(p)));
    return {
      ops,
      commit: () => {
        for (const p of confs) this.forget(p);
      },
      abort: () => undefined,
    };
  }
}
