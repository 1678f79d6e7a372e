import path from 'node:path';
import { FlowError } from '../errors.js';
import { ConnectionStringError } from '../lib/pg-connection.js';
import { LevelStore } from './level/level-store.js';
import { replicaApplicationName } from './pg/pg-db.js';
import { PgStore } from './pg/pg-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** `database.dialect`: leveldb (default), postgres; Gotify's sqlite3 and mysql mean leveldb (see config/keys.ts). */
  dialect: string;
  /** `database.connection` (postgres: libpq key=value or a postgres:// URL). */
  connection: string;
  /** The data dir: LevelDB lives in `<datadir>/db`. */
  dataDir: string;
  /** A write failed / the database is unreachable (false), and recovered (true). */
  onHealth?: (healthy: boolean, err?: unknown) => void;
  /** A background purge step failed (it is retried). */
  onPurgeError?: (err: unknown) => void;
  /** This replica's id: PostgreSQL sessions carry it, so replicas tell their own changes from others'. */
  replicaId?: string;
}

/** Opens the store the config names. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const purge = { onError: opts.onPurgeError };
  if (opts.dialect === 'postgres') {
    if (opts.connection.trim() === '') {
      throw new FlowError('FLOW_ERR_CONFIG_INVALID', 'database.connection is empty: with database.dialect postgres it names the server, e.g. "host=db port=5432 user=flow dbname=flow password=…"');
    }
    try {
      // Replicas share the database: only the leader purges (cluster/cluster.ts hands the role over).
      return await PgStore.open(opts.connection, {
        onHealth: opts.onHealth,
        purge: { ...purge, leaderOnly: true },
        applicationName: opts.replicaId === undefined ? undefined : replicaApplicationName(opts.replicaId),
      });
    } catch (err) {
      if (err instanceof ConnectionStringError) throw new FlowError('FLOW_ERR_CONFIG_INVALID', `database.connection: ${err.message}`);
      throw err;
    }
  }
  return LevelStore.open(path.join(opts.dataDir, 'db'), { onHealth: opts.onHealth, purge });
}
