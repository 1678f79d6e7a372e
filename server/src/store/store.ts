import { Db, type DbOptions } from './db.js';
import { UserStore } from './user.js';
import { ClientStore } from './client.js';
import { ApplicationStore } from './application.js';
import { MessageStore } from './message.js';
import { PluginConfStore } from './plugin-conf.js';

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

  private constructor(readonly db: Db) {
    this.clients = new ClientStore(db);
    this.pluginConfs = new PluginConfStore(db);
    this.messages = new MessageStore(db, () => this.applications);
    this.applications = new ApplicationStore(db, () => this.messages);
    this.users = new UserStore(db, () => ({
      clients: this.clients,
      applications: this.applications,
      pluginConfs: this.pluginConfs,
    }));
  }

  /** Opens the database in `dir` and loads the cached tables. Throws FLOW_ERR_STORE_LOCKED if in use. */
  static async open(dir: string, opts: DbOptions = {}): Promise<Store> {
    const db = await Db.open(dir, opts);
    const store = new Store(db);
    try {
      await Promise.all([store.users.load(), store.clients.load(), store.applications.load(), store.pluginConfs.load()]);
    } catch (err) {
      await db.close();
      throw err;
    }
    return store;
  }

  ping(): Promise<void> {
    return this.db.ping();
  }

  /** Safe to call twice. */
  close(): Promise<void> {
    return this.db.close();
  }
}
