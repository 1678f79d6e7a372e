import { FlowError } from '../../errors.js';
import type { UserRecord } from '../../model/user.js';
import { CachedUserStore } from '../cached/user.js';
import type { PgApplicationStore } from './application.js';
import type { PgClientStore } from './client.js';
import type { PgDb } from './pg-db.js';
import type { PgPluginConfStore } from './plugin-conf.js';
import { USER_COLUMNS, placeholders, userOf, userValues, type UserRow } from './rows.js';

/** Users in PostgreSQL (`users`), served from memory (`CachedUserStore`). */
export class PgUserStore extends CachedUserStore {
  constructor(
    private readonly db: PgDb,
    private readonly related: () => { clients: PgClientStore; applications: PgApplicationStore; pluginConfs: PgPluginConfStore },
  ) {
    super(db);
  }

  private async fetch(where = '', values: unknown[] = []): Promise<UserRecord[]> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ${where}`, values);
    return rows.map(userOf);
  }

  async load(): Promise<void> {
    for (const u of await this.fetch()) this.remember(u);
  }

  /** Another replica changed user `id`: memory takes what the database holds now. */
  refresh(id: number): Promise<{ before?: UserRecord; after?: UserRecord }> {
    return this.db.exclusive(async () => {
      const [after] = await this.fetch('WHERE id = $1', [id]);
      return { before: this.adopt(id, after), after };
    });
  }

  /** Reloads every user (notifications may have been missed); returns the ones that are gone. */
  reload(): Promise<UserRecord[]> {
    return this.db.exclusive(async () => this.adoptAll(await this.fetch()));
  }

  protected async insertRecord(input: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    const { rows } = await this.db
      .query<{ id: number }>(`INSERT INTO users (${USER_COLUMNS}) VALUES (nextval('user_id_seq'), ${placeholders(4)}) RETURNING id`, userValues({ id: 0, ...input }).slice(1))
      .catch(async (err: unknown) => {
        // Another server on the database created the name: learn the row, then refuse as for any taken name.
        if (err instanceof FlowError && err.code === 'FLOW_ERR_STORE_CONFLICT') {
          for (const u of await this.fetch('WHERE name = $1', [input.name])) this.adopt(u.id, u);
        }
        throw err;
      });
    return { id: rows[0]!.id, ...input };
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
