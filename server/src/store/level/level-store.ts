import { Db, type DbOptions } from './db.js';
import { LevelUserStore } from './user.js';
import { LevelClientStore } from './client.js';
import { LevelApplicationStore } from './application.js';
import { LevelMessageStore } from './message.js';
import { LevelPluginConfStore } from './plugin-conf.js';
import type { PurgerOptions } from './purger.js';
import { LevelPluginPermissionStore } from './plugin-permission.js';
import { ID_ENTITIES, type IdEntity, type Store } from '../store.js';

/**
 * The store over one LevelDB directory (the embedded default). Entity stores share one `Db` (lock, sequences,
 * batches); cross-entity cascades (user → apps → messages, clients, plugin confs) are one batch.
 */
export class LevelStore implements Store {
  readonly backend = 'leveldb' as const;
  readonly users: LevelUserStore;
  readonly clients: LevelClientStore;
  readonly applications: LevelApplicationStore;
  readonly messages: LevelMessageStore;
  readonly pluginConfs: LevelPluginConfStore;
  readonly pluginPermissions: LevelPluginPermissionStore;

  private constructor(
    readonly db: Db,
    purge: PurgerOptions,
  ) {
    this.clients = new LevelClientStore(db);
    this.pluginConfs = new LevelPluginConfStore(db);
    this.pluginPermissions = new LevelPluginPermissionStore(db);
    this.messages = new LevelMessageStore(db, purge);
    this.applications = new LevelApplicationStore(db, this.messages);
    this.users = new LevelUserStore(db, () => ({
      clients: this.clients,
      applications: this.applications,
      pluginConfs: this.pluginConfs,
    }));
  }

  /**
   * Opens the database in `dir`, loads the cached tables and resumes unfinished bulk deletes in
   * the background. Throws FLOW_ERR_STORE_LOCKED if in use.
   */
  static async open(dir: string, opts: DbOptions & { purge?: PurgerOptions } = {}): Promise<LevelStore> {
    const db = await Db.open(dir, opts);
    const store = new LevelStore(db, opts.purge ?? {});
    try {
      await Promise.all([store.users.load(), store.clients.load(), store.applications.load(), store.pluginConfs.load(), store.messages.load(), store.pluginPermissions.load()]);
    } catch (err) {
      await db.close();
      throw err;
    }
    return store;
  }

  lastIds(): Promise<Record<IdEntity, number>> {
    return Promise.resolve(Object.fromEntries(ID_ENTITIES.map((e) => [e, this.db.lastId(e)])) as Record<IdEntity, number>);
  }

  ping(): Promise<void> {
    return this.db.ping();
  }

  /** Stops the purger after its chunk in flight, then closes. Safe to call twice. */
  async close(): Promise<void> {
    await this.messages.close();
    await this.db.close();
  }
}
