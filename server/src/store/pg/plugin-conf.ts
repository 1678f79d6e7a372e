import { FlowError } from '../../errors.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { PluginConfPatch, PluginConfStore } from '../plugin-conf.js';
import { OwnedCache } from '../owned-cache.js';
import { SharedTexts } from '../shared-texts.js';
import type { PgDb } from './pg-db.js';
import { PLUGIN_CONF_COLUMNS, placeholders, pluginConfOf, pluginConfValues, type PluginConfRow } from './rows.js';

const pathKey = (userId: number, modulePath: string) => `${userId}!${modulePath}`;

/** `LIKE` pattern of the keys starting with `prefix`. */
const likePrefix = (prefix: string) => prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';

/**
 * Plugin confs in PostgreSQL (`plugin_confs`, cached in memory), with each instance's storage
 * blob (`plugin_storage`) and key-value entries (`plugin_kv`, values as the JSON text LevelDB
 * held) in tables of their own that the conf's foreign key takes along on delete.
 */
export class PgPluginConfStore implements PluginConfStore {
  private records = new OwnedCache<PluginConfRecord>();
  private byPath = new Map<string, number>();
  private texts = new SharedTexts();

  constructor(private readonly db: PgDb) {}

  async load(): Promise<void> {
    const { rows } = await this.db.query<PluginConfRow>(`SELECT ${PLUGIN_CONF_COLUMNS} FROM plugin_confs`);
    for (const r of rows) this.remember(pluginConfOf(r));
  }

  private remember(p: PluginConfRecord): void {
    p.config = this.texts.share(p.config);
    this.records.add(p);
    this.byPath.set(pathKey(p.userId, p.modulePath), p.id);
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

  listByUser(userId: number): PluginConfRecord[] {
    return this.records.listByUser(userId);
  }

  list(): PluginConfRecord[] {
    return [...this.records.values()].sort((a, b) => a.id - b.id);
  }

  create(input: Omit<PluginConfRecord, 'id' | 'createdAt' | 'enabled'> & { enabled?: boolean }): Promise<PluginConfRecord> {
    return this.db.exclusive(async () => {
      if (this.getByToken(input.token)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'token already exists');
      if (this.getByUserAndPath(input.userId, input.modulePath)) {
        throw new FlowError('FLOW_ERR_STORE_CONFLICT', `user ${input.userId} already has a conf for ${input.modulePath}`);
      }
      const draft: PluginConfRecord = { ...input, id: 0, enabled: input.enabled ?? false, createdAt: new Date().toISOString() };
      const values = pluginConfValues(draft).slice(1);
      const { rows } = await this.db.query<{ id: number }>(
        `INSERT INTO plugin_confs (${PLUGIN_CONF_COLUMNS}) VALUES (nextval('pluginconf_id_seq'), ${placeholders(values.length)}) RETURNING id`,
        values,
      );
      const rec = { ...draft, id: rows[0]!.id };
      this.remember(rec);
      return rec;
    });
  }

  update(id: number, patch: PluginConfPatch): Promise<PluginConfRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      const next = { ...cur, ...patch };
      await this.db.query('UPDATE plugin_confs SET enabled = $2, config = $3, application_id = $4 WHERE id = $1', [id, next.enabled, next.config, next.applicationId]);
      next.config = this.texts.share(next.config);
      this.texts.release(cur.config);
      this.records.set(next);
      return next;
    });
  }

  delete(id: number): Promise<PluginConfRecord> {
    return this.db.exclusive(async () => {
      const cur = this.current(id);
      await this.db.query('DELETE FROM plugin_confs WHERE id = $1', [id]);
      this.forget(cur);
      return cur;
    });
  }

  async getStorage(id: number): Promise<Buffer> {
    const { rows } = await this.db.query<{ data: Buffer }>('SELECT data FROM plugin_storage WHERE conf_id = $1', [id]);
    return rows[0]?.data ?? Buffer.alloc(0);
  }

  setStorage(id: number, data: Uint8Array): Promise<void> {
    return this.db.exclusive(async () => {
      this.current(id);
      await this.db.query('INSERT INTO plugin_storage (conf_id, data) VALUES ($1, $2) ON CONFLICT (conf_id) DO UPDATE SET data = EXCLUDED.data', [id, Buffer.from(data)]);
    });
  }

  async kvGet(id: number, key: string): Promise<unknown> {
    const { rows } = await this.db.query<{ value: string }>('SELECT value FROM plugin_kv WHERE conf_id = $1 AND key = $2', [id, key]);
    return rows[0] === undefined ? undefined : (JSON.parse(rows[0].value) as unknown);
  }

  async kvList(id: number): Promise<Record<string, unknown>> {
    const { rows } = await this.db.query<{ key: string; value: string }>('SELECT key, value FROM plugin_kv WHERE conf_id = $1 ORDER BY key', [id]);
    const out: Record<string, unknown> = {};
    for (const r of rows) out[r.key] = JSON.parse(r.value);
    return out;
  }

  async kvKeys(id: number, prefix = ''): Promise<string[]> {
    const { rows } = await this.db.query<{ key: string }>("SELECT key FROM plugin_kv WHERE conf_id = $1 AND key LIKE $2 ESCAPE '\\' ORDER BY key", [id, likePrefix(prefix)]);
    return rows.map((r) => r.key);
  }

  /** Counted as LevelDB's store counts: key bytes plus the value's text (a string value without its JSON quotes). */
  async kvUsage(id: number): Promise<{ keys: number; bytes: number }> {
    const { rows } = await this.db.query<{ keys: number; bytes: number | null }>(
      `SELECT count(*) AS keys, sum(octet_length(key) + CASE WHEN left(value, 1) = '"' THEN octet_length((value::json #>> '{}')) ELSE octet_length(value) END) AS bytes
         FROM plugin_kv WHERE conf_id = $1`,
      [id],
    );
    return { keys: rows[0]?.keys ?? 0, bytes: rows[0]?.bytes ?? 0 };
  }

  kvSet(id: number, key: string, value: unknown): Promise<void> {
    return this.db.exclusive(async () => {
      this.current(id);
      if (value === undefined) await this.db.query('DELETE FROM plugin_kv WHERE conf_id = $1 AND key = $2', [id, key]);
      else {
        await this.db.query('INSERT INTO plugin_kv (conf_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (conf_id, key) DO UPDATE SET value = EXCLUDED.value', [
          id,
          key,
          JSON.stringify(value),
        ]);
      }
    });
  }

  kvDelete(id: number, key: string): Promise<void> {
    return this.kvSet(id, key, undefined);
  }

  private current(id: number): PluginConfRecord {
    const cur = this.records.get(id);
    if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'unknown plugin');
    return cur;
  }

  /** After the user's row (and by its foreign key, its confs with storage and kv) was deleted. */
  forgetUser(userId: number): void {
    for (const p of this.listByUser(userId)) this.forget(p);
  }
}
