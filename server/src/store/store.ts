import { Db, type DbOptions } from './db.js';
import { UserStore } from './user.js';
import { ClientStore } from './client.js';
import { ApplicationStore } from './application.js';
import { MessageStore } from './message.js';
import { PluginConfStore } from './plugin-conf.js';
import type { PurgerOptions } from './purger.js';

/**
 * The typed store over one LevelDB directory. Entity stores share one `Db` (lock, sequences,
 * batches); cross-entity cascades (user → apps → messages, clients, plugin confs) are one batch.
 */
export class Store {
  readonly users: UserStore;
  readonly clients: ClientStore;
  readonly applications: ApplicationStore;
  readonly messages: MessageStore;
  readonly pluginConfs: PluginConfStore;

  private constructor(
    readonly db: Db,
    purge: PurgerOptions,
  ) {
    this.clients = new ClientStore(db);
    this.pluginConfs = new PluginConfStore(db);
    this.messages = new MessageStore(db, purge);
    this.applications = new ApplicationStore(db, this.messages);
    this.users = new UserStore(db, () => ({
      clients: this.clients,
      applications: this.applications,
      pluginConfs: this.pluginConfs,
    }));
  }

  /**
   * Opens the database in `dir`, loads the cached tables and resumes unfinished bulk deletes in
   * the background. Throws FLOW_ERR_STORE_LOCKED if in use.
   */
  static async open(dir: string, opts: DbOptions & { purge?: PurgerOptions } = {}): Promise<Store> {
    const db = await Db.open(dir, opts);
    const store = new Store(db, opts.purge ?? {});
    try {
      await Promise.all([store.users.load(), store.clients.load(), store.applications.load(), store.pluginConfs.load(), store.messages.load()]);
    } catch (err) {
      await db.close();
      throw err;
    }
    return store;
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
