import { FlowError } from '../../errors.js';
import type { UserRecord } from '../../model/user.js';
import type { UserStore } from '../user.js';
import type { PgApplicationStore } from './application.js';
import type { PgClientStore } from './client.js';
import type { PgDb } from './pg-db.js';
import type { PgPluginConfStore } from './plugin-conf.js';
import { USER_COLUMNS, placeholders, userOf, userValues, type UserRow } from './rows.js';

/** Users in PostgreSQL (`users`), served from memory as in LevelDB (write-through after commit). */
export class PgUserStore implements UserStore {
  private byId = new Map<number, UserRecord>();
  private byName = new Map<string, number>();

  constructor(
    private readonly db: PgDb,
    private readonly related: () => { clients: PgClientStore; applications: PgApplicationStore; pluginConfs: PgPluginConfStore },
  ) {}

  async load(): Promise<void> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users`);
    for (const r of rows) this.remember(userOf(r));
  }

  private remember(u: UserRecord): void {
    this.byId.set(u.id, u);
    this.byName.set(u.name, u.id);
  }

  private async reload(name: string): Promise<void> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = $1`, [name]);
    if (rows[0]) this.remember(userOf(rows[0]));
  }

  get(id: number): UserRecord | undefined {
    return this.byId.get(id);
  }

  getByName(name: string): UserRecord | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.byId.get(id);
  }

  list(): UserRecord[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  countAdmins(): number {
    let n = 0;
    for (const u of this.byId.values()) if (u.admin) n++;
    return n;
  }

  create(input: Omit<UserRecord, 'id'>): Promise<UserRecord> {
    return this.db.exclusive(async () => {
      if (this.byName.has(input.name)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'username already exists');
      const { rows } = await this.db
        .query<{ id: number }>(
          `INSERT INTO users (${USER_COLUMNS}) VALUES (nextval('user_id_seq'), ${placeholders(4)}) RETURNING id`,
          userValues({ id: 0, ...input }).slice(1),
        )
        .catch(async (err: unknown) => {
          // Another server on the database created the name: learn the row, then refuse as for any taken name.
          if (err instanceof FlowError && err.code === 'FLOW_ERR_STORE_CONFLICT') await this.reload(input.name);
          throw err;
        });
      const rec: UserRecord = { id: rows[0]!.id, ...input };
      this.remember(rec);
      return rec;
    });
  }

  update(id: number, change: (cur: UserRecord) => UserRecord): Promise<UserRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'user does not exist');
      const next = { ...change(cur), id };
      if (next.name !== cur.name && this.byName.has(next.name)) throw new FlowError('FLOW_ERR_STORE_CONFLICT', 'username already exists');
      await this.db.query('UPDATE users SET name = $2, pass_hash = $3, admin = $4, oidc_id = $5 WHERE id = $1', userValues(next));
      this.byId.set(id, next);
      if (next.name !== cur.name) {
        this.byName.delete(cur.name);
        this.byName.set(next.name, id);
      }
      return next;
    });
  }

  /**
   * One transaction: the purge mark of the user's messages, then the user row, whose foreign
   * keys take its clients, applications and plugin confs (with storage and kv) along.
   */
  delete(id: number, check?: (cur: UserRecord) => void): Promise<UserRecord> {
    return this.db.exclusive(async () => {
      const cur = this.byId.get(id);
      if (!cur) throw new FlowError('FLOW_ERR_NOT_FOUND', 'user does not exist');
      check?.(cur);
      const { clients, applications, pluginConfs } = this.related();
      const apps = applications.closeAllOfUser(id);
      try {
        const mark = await applications.messages.purgeUserMark(id);
        await this.db.tx(async (q) => {
          await mark?.write(q);
          await q.query('DELETE FROM users WHERE id = $1', [id]);
        });
        mark?.commit();
      } finally {
        apps.reopen();
      }
      this.byId.delete(id);
      this.byName.delete(cur.name);
      applications.forgetUser(id);
      clients.forgetUser(id);
      pluginConfs.forgetUser(id);
      return cur;
    });
  }
}
