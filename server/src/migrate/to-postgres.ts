import type pg from 'pg';
import { FlowError } from '../errors.js';
import { applyMigrations } from '../store/pg/migrations.js';
import { PgDb } from '../store/pg/pg-db.js';
import {
  APPLICATION_COLUMNS,
  CLIENT_COLUMNS,
  MESSAGE_COLUMNS,
  PLUGIN_CONF_COLUMNS,
  USER_COLUMNS,
  applicationValues,
  clientValues,
  messageValues,
  pluginConfValues,
  userValues,
} from '../store/pg/rows.js';
import { ID_ENTITIES } from '../store/store.js';
import { countMismatches, type CopyCounts, type CopyTarget } from './copy.js';

const TABLES = ['users', 'clients', 'applications', 'messages', 'purge_marks', 'plugin_confs', 'plugin_storage', 'plugin_kv', 'plugin_permissions'];

/** One multi-row INSERT of `rows` (each the values of `columns`, in order). */
async function insertRows(client: pg.PoolClient, table: string, columns: string, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const width = rows[0]!.length;
  // PostgreSQL takes at most 65,535 parameters per statement.
  const per = Math.floor(60_000 / width);
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const tuples = chunk.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
    await client.query(`INSERT INTO ${table} (${columns}) VALUES ${tuples.join(', ')}`, chunk.flat());
  }
}

/**
 * `flow migrate --to postgres`: fills an empty Flow database inside ONE transaction, checks the
 * row counts against what was read, and commits only then: a failure or a kill leaves the
 * database as empty as it was.
 */
export async function postgresTarget(connection: string): Promise<CopyTarget & { where: string }> {
  // The copy's one transaction waits on the source between inserts: no idle-in-transaction limit for it.
  const db = new PgDb(connection, { poolSize: 1, idleInTransactionMs: 0 });
  let client: pg.PoolClient | undefined;
  try {
    await db.connect();
    await applyMigrations(db);
    client = await db.pool.connect();
    const { rows } = await client.query<{ n: number }>(`SELECT (${TABLES.map((t) => `(SELECT count(*) FROM ${t})`).join(' + ')}) AS n`);
    if (rows[0]!.n > 0) {
      throw new FlowError('FLOW_ERR_BAD_REQUEST', `the PostgreSQL database at ${db.where} already holds Flow data; migrate into an empty database (nothing was written)`);
    }
    await client.query('BEGIN');
    // A bulk copy announces nothing to replicas (store/pg/migrations.ts, version 5): none runs during a migration.
    await client.query("SET LOCAL flow.quiet = 'on'");
  } catch (err) {
    client?.release();
    await db.close();
    throw err;
  }
  const c = client;
  const end = async () => {
    c.release();
    await db.close();
  };
  return {
    where: db.where,
    users: (recs) => insertRows(c, 'users', USER_COLUMNS, recs.map(userValues)),
    clients: (recs) => insertRows(c, 'clients', CLIENT_COLUMNS, recs.map(clientValues)),
    applications: (recs) => insertRows(c, 'applications', APPLICATION_COLUMNS, recs.map(applicationValues)),
    async pluginConf(rec, storage, kv) {
      await insertRows(c, 'plugin_confs', PLUGIN_CONF_COLUMNS, [pluginConfValues(rec)]);
      if (storage.length > 0) await c.query('INSERT INTO plugin_storage (conf_id, data) VALUES ($1, $2)', [rec.id, storage]);
      await insertRows(c, 'plugin_kv', 'conf_id, key, value', Object.entries(kv).map(([k, v]) => [rec.id, k, JSON.stringify(v)]));
    },
    pluginPermissions: (list) => insertRows(c, 'plugin_permissions', 'module_path, permission', list.map((p) => [p.modulePath, p.permission])),
    messages: (recs) => insertRows(c, 'messages', MESSAGE_COLUMNS, recs.map(messageValues)),
    async finish(lastIds, expected) {
      try {
        for (const e of ID_ENTITIES) {
          if (lastIds[e] > 0) await c.query(`SELECT setval('${e}_id_seq', $1)`, [lastIds[e]]);
        }
        const { rows } = await c.query<CopyCounts>(
          `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM applications) AS applications,
                  (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM plugin_confs) AS "pluginConfs",
                  (SELECT count(*) FROM plugin_storage) AS "pluginStorage", (SELECT count(*) FROM plugin_kv) AS "pluginKv",
                  (SELECT count(*) FROM plugin_permissions) AS "pluginPermissions"`,
        );
        const wrong = countMismatches(expected, rows[0]!);
        if (wrong.length > 0) throw new FlowError('FLOW_ERR_INTERNAL', `the copy does not match its source (${wrong.join('; ')}); nothing was written`);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await end();
      }
    },
    async abandon() {
      await c.query('ROLLBACK').catch(() => undefined);
      await end().catch(() => undefined);
    },
  };
}
