import { CachedPluginConfStore } from '../cached/plugin-conf.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import { type Db } from './db.js';
import { type CascadePart, type Op, pad, prefixEnd, put, putRaw, del } from './ops.js';
import { OwnedRecords } from './owned-records.js';

// Keys: p!<id> → record; p-tok!<token> → id; u-p!<userId>!<id> → ''; u-pm!<userId>!<modulePath> → id;
// p-st!<id> → storage (base64); p-kv!<id>!<key> → JSON value.
const BY_PATH = 'u-pm!';
const STORAGE = 'p-st!';
const KV = 'p-kv!';

const pathKey = (userId: number, modulePath: string) => BY_PATH + pad(userId) + '!' + modulePath;
const kvPrefix = (id: number) => KV + pad(id) + '!';

/**
 * Plugin confs in LevelDB: records served from memory (`CachedPluginConfStore`); `storage` and
 * the key-value entries are read and written as their own LevelDB keys, so a plugin's state
 * changes never rewrite the conf record (and vice versa).
 */
export class LevelPluginConfStore extends CachedPluginConfStore {
  declare protected readonly records: OwnedRecords<PluginConfRecord>;

  constructor(private readonly db: Db) {
    super(db, new OwnedRecords<PluginConfRecord>(db, { rec: 'p!', byToken: 'p-tok!', byUser: 'u-p!', sequence: 'pluginconf' }));
  }

  async load(): Promise<void> {
    await this.records.load();
    // Added again so that the conf indexes (module path, shared config texts) learn each record.
    for (const rec of [...this.records.values()]) this.records.add(rec);
  }

  protected async insertRecord(draft: PluginConfRecord): Promise<number> {
    const { id, op } = this.db.nextId('pluginconf');
    const rec = { ...draft, id };
    await this.db.batch([op, ...this.records.insertOps(rec), putRaw(pathKey(rec.userId, rec.modulePath), String(id))]);
    return id;
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

  protected writeRecord(next: PluginConfRecord): Promise<void> {
    return this.db.batch([this.records.updateOp(next)]);
  }

  protected async deleteRecord(cur: PluginConfRecord): Promise<void> {
    await this.db.batch(await this.recordOps(cur));
  }

  /** The plugin's opaque storage blob; empty when never set. */
  async getStorage(id: number): Promise<Buffer> {
    const v = await this.db.getRaw(STORAGE + pad(id));
    return v === undefined ? Buffer.alloc(0) : Buffer.from(v, 'base64');
  }

  setStorage(id: number, data: Uint8Array): Promise<void> {
    return this.db.exclusive(async () => {
      this.current(id);
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
      this.current(id);
      await this.db.batch([value === undefined ? del(kvPrefix(id) + key) : put(kvPrefix(id) + key, value)]);
    });
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

  /** For the user cascade (inside the lock). */
  async deleteAllOfUserOps(userId: number): Promise<CascadePart> {
    const confs = this.listByUser(userId);
    const ops: Op[] = [];
    for (const p of confs) ops.push(...(await this.recordOps(p)));
    return {
      ops,
      commit: () => this.forgetUser(userId),
      abort: () => undefined,
    };
  }
}
