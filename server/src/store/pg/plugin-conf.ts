import type { PluginConfRecord } from '../../model/plugin-conf.js';
import { CachedPluginConfStore } from '../cached/plugin-conf.js';
import { followingTable, PgCachedTable } from './cached-table.js';
import type { WriteFence } from '../message.js';
import type { PgDb } from './pg-db.js';
import { PLUGIN_CONFS } from './rows.js';

/** Where a write's statements run: the pool, or the client of its transaction. */
type Statements = { query(text: string, values: unknown[]): Promise<unknown> };

/** `LIKE` pattern of the keys starting with `prefix`. */
const likePrefix = (prefix: string) => prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';

/**
 * Plugin confs in PostgreSQL (`plugin_confs`, served from memory by `CachedPluginConfStore`),
 * with each instance's storage blob (`plugin_storage`) and key-value entries (`plugin_kv`,
 * values as the JSON text LevelDB held) in tables of their own that the conf's foreign key
 * takes along on delete.
 */
export class PgPluginConfStore extends followingTable<PluginConfRecord, typeof CachedPluginConfStore>(CachedPluginConfStore) {
  readonly table: PgCachedTable<PluginConfRecord>;

  constructor(private readonly db: PgDb) {
    super(db);
    this.table = new PgCachedTable(db, PLUGIN_CONFS, this.records);
  }

  /** The user's conf of `modulePath` as the database holds it now (another replica may have created it). */
  reread(userId: number, modulePath: string): Promise<PluginConfRecord | undefined> {
    return this.db.exclusive(async () => {
      const [found] = await this.table.select('WHERE user_id = $1 AND module_path = $2', [userId, modulePath]);
      if (found) this.records.adopt(found.id, found);
      return found;
    });
  }

  protected async insertRecord(draft: PluginConfRecord): Promise<number> {
    return (await this.table.insert(draft)).id;
  }

  protected async writeRecord(next: PluginConfRecord, fence?: WriteFence): Promise<void> {
    await this.fenced(fence, (q) => q.query('UPDATE plugin_confs SET enabled = $2, config = $3, application_id = $4 WHERE id = $1', [next.id, next.enabled, next.config, next.applicationId]));
  }

  protected async deleteRecord(cur: PluginConfRecord): Promise<void> {
    await this.db.query('DELETE FROM plugin_confs WHERE id = $1', [cur.id]);
  }

  async getStorage(id: number): Promise<Buffer> {
    const { rows } = await this.db.query<{ data: Buffer }>('SELECT data FROM plugin_storage WHERE conf_id = $1', [id]);
    return rows[0]?.data ?? Buffer.alloc(0);
  }

  setStorage(id: number, data: Uint8Array, fence?: WriteFence): Promise<void> {
    return this.db.exclusive(async () => {
      this.current(id);
      await this.fenced(fence, (q) => q.query('INSERT INTO plugin_storage (conf_id, data) VALUES ($1, $2) ON CONFLICT (conf_id) DO UPDATE SET data = EXCLUDED.data', [id, Buffer.from(data)]));
    });
  }

  /**
   * Runs a plugin instance's write: alone without a fence, else in one transaction with the
   * fence checked LAST, so the lease is verified (and locked against a takeover) right before
   * the commit, however long the write itself waited.
   */
  private async fenced(fence: WriteFence | undefined, write: (q: Statements) => Promise<unknown>): Promise<void> {
    if (!fence) {
      await write(this.db);
      return;
    }
    await this.db.tx(async (q) => {
      await write(q);
      await fence.check(q);
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

  kvSet(id: number, key: string, value: unknown, fence?: WriteFence): Promise<void> {
    return this.db.exclusive(async () => {
      this.current(id);
      await this.fenced(fence, (q) =>
        value === undefined
          ? q.query('DELETE FROM plugin_kv WHERE conf_id = $1 AND key = $2', [id, key])
          : q.query('INSERT INTO plugin_kv (conf_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (conf_id, key) DO UPDATE SET value = EXCLUDED.value', [id, key, JSON.stringify(value)]),
      );
    });
  }
}
