import { FlowError } from '../../errors.js';
import type { UserRecord } from '../../model/user.js';
import { CachedUserStore } from '../cached/user.js';
import type { PgApplicationStore } from './application.js';
import type { PgClientStore } from './client.js';
import { followingTable, PgCachedTable } from './cached-table.js';
import type { PgDb } from './pg-db.js';
import type { PgPluginConfStore } from './plugin-conf.js';
import { USERS, userValues } from './rows.js';

/** Users in PostgreSQL (`users`), served from memory (`CachedUserStore`). */
export class PgUserStore extends followingTable<UserRecord, typeof CachedUserStore>(CachedUserStore) {
  readonly table: PgCachedTable<UserRecord>;

  constructor(
    private readonly db: PgDb,
    private readonly related: () => { clients: PgClientStore; applications: PgApplicationStore; pluginConfs: PgPluginConfStore },
  ) {
    super(db);
    this.table = new PgCachedTable(db, USERS, this.records);
  }

  protected async insertRecord(input: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    return this.table.insert(input).catch(async (err: unknown) => {
      // Another server on the database created the name: learn the row, then refuse as for any taken name.
      if (err instanceof FlowError && err.code === 'FLOW_ERR_STORE_CONFLICT') {
        for (const u of await this.table.select('WHERE name = $1', [input.name])) this.records.adopt(u.id, u);
      }
      throw err;
    });
  }

  protected async writeRecord(_cur: UserRecord, next: UserRecord): Promise<void> {
    await this.db.query('UPDATE users SET name = $2, pass_hash = $3, admin = $4, oidc_id = $5 WHERE id = $1', userValues(next));
  }

  /**
   * One transaction: the purge mark of the user's messages, then the user row, whose foreign
   * keys take its clients, applications and plugin confs (with storage and kv) along.
   */
  protected async deleteRecord(cur: UserRecord): Promise<void> {
    const { clients, applications, pluginConfs } = this.related();
    const apps = applications.closeAllOfUser(cur.id);
    try {
      const mark = await applications.messages.purgeUserMark(cur.id);
      await this.db.tx(async (q) => {
        await mark?.write(q);
        await q.query('DELETE FROM users WHERE id = $1', [cur.id]);
      });
      mark?.commit();
    } finally {
      apps.reopen();
    }
    applications.forgetUser(cur.id);
    clients.forgetUser(cur.id);
    pluginConfs.forgetUser(cur.id);
  }
}
