import { ID_ENTITIES, type IdEntity, type Store } from '../store.js';
import { lastSequenceValue } from './ids.js';
import { PgApplicationStore } from './application.js';
import { PgClientStore } from './client.js';
import { PgMessageStore } from './message.js';
import { applyMigrations } from './migrations.js';
import { PgDb, type PgDbOptions } from './pg-db.js';
import { PgPluginConfStore } from './plugin-conf.js';
import { PgPluginPermissionStore } from './plugin-permission.js';
import type { PgPurgerOptions } from './purger.js';
import { PgUserStore } from './user.js';

/**
 * The store on a PostgreSQL database (`database.dialect: postgres`). The entity stores share
 * one `PgDb` (pool, transactions, the process's lock); the schema is brought up to date at open.
 */
export class PgStore implements Store {
  readonly backend = 'postgres' as const;
  readonly users: PgUserStore;
  readonly clients: PgClientStore;
  readonly applications: PgApplicationStore;
  readonly messages: PgMessageStore;
  readonly pluginConfs: PgPluginConfStore;
  readonly pluginPermissions: PgPluginPermissionStore;

  private constructor(
    readonly db: PgDb,
    purge: PgPurgerOptions,
  ) {
    this.clients = new PgClientStore(db);
    this.pluginConfs = new PgPluginConfStore(db);
    this.pluginPermissions = new PgPluginPermissionStore(db);
    this.messages = new PgMessageStore(db, purge);
    this.applications = new PgApplicationStore(db, this.messages);
    this.users = new PgUserStore(db, () => ({ clients: this.clients, applications: this.applications, pluginConfs: this.pluginConfs }));
  }

  /**
   * Connects (unreachable: FLOW_ERR_STORE_UNAVAILABLE naming host, port and database), applies
   * pending migrations, loads the cached tables and resumes unfinished bulk deletes.
   */
  static async open(connection: string, opts: PgDbOptions & { purge?: PgPurgerOptions } = {}): Promise<PgStore> {
    const db = new PgDb(connection, opts);
    try {
      await db.connect();
      await applyMigrations(db);
      const store = new PgStore(db, opts.purge ?? {});
      await Promise.all([store.users.load(), store.clients.load(), store.applications.load(), store.pluginConfs.load(), store.pluginPermissions.load()]);
      await store.messages.load();
      return store;
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }

  async lastIds(): Promise<Record<IdEntity, number>> {
    const out = {} as Record<IdEntity, number>;
    for (const e of ID_ENTITIES) out[e] = await lastSequenceValue(this.db, `${e}_id_seq`);
    return out;
  }

  ping(): Promise<void> {
    return this.db.ping();
  }

  async close(): Promise<void> {
    await this.messages.close();
    await this.db.close();
  }
}
