import pg from 'pg';
import { FlowError } from '../../errors.js';
import { pgClientConfig } from '../../lib/pg-connection.js';
import { Health } from '../health.js';
import { WriteGate } from '../write-gate.js';

/**
 * A session left idle inside a transaction this long is ended by PostgreSQL. Flow's transactions
 * never wait on anything but their own statements, so only a paused process (SIGSTOP, a frozen
 * VM) leaves one open — and its row locks would hold up the others: a fenced write's lock on a
 * lease (cluster/lease.ts) would block the takeover from the replica that paused.
 */
const IDLE_IN_TRANSACTION_MS = 10_000;

/** Probes after a lost connection: 0.5 s, doubling, at most every 5 s. */
const PROBE_FIRST_MS = 500;
const PROBE_MAX_MS = 5_000;

export interface PgDbOptions {
  /** Told when the database becomes unreachable and reachable again. */
  onHealth?: (healthy: boolean, err?: unknown) => void;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** PostgreSQL's idle_in_transaction_session_timeout for the pool's sessions (default 10 s; 0: none, for flow migrate's long copy). */
  idleInTransactionMs?: number;
  /**
   * The sessions' application_name (default "flow"): `replicaApplicationName()` for a server,
   * so the change notifications its writes raise name it as their origin.
   */
  applicationName?: string;
}

/** The application_name of a replica's sessions, as the change notifications name their origin. */
export const replicaApplicationName = (replicaId: string): string => `flow/${replicaId}`;

/** What a query runs on: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

// bigint (int8) and numeric counts as JS numbers: Flow's ids and counts stay below 2^53.
// Timestamps stay the driver's Dates; the row mappers (`rows.ts`) turn them into ISO strings.
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** Errors that mean "the server is not there" (as opposed to a refused statement). */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(e.code)) return true;
    // 08: connection exception; 57P01-57P03: the server is shutting down or starting.
    if (e.code.startsWith('08') || /^57P0[123]$/.test(e.code)) return true;
  }
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e?.message ?? '');
}

/**
 * The PostgreSQL pool shared by the entity stores (`pg/*.ts`), as `level/db.ts` is for LevelDB.
 * It owns:
 * - the pool and the mapping of driver errors to Flow's: a lost or refused connection is
 *   FLOW_ERR_STORE_UNAVAILABLE (HTTP 503), after which every call fails fast with it (and
 *   `ping()`, so /health is red) while a probe reconnects with backoff; a unique violation that
 *   slipped past a store's own check is FLOW_ERR_STORE_CONFLICT;
 * - `tx()`: a transaction for every change that touches several rows (what a LevelDB batch was);
 *   a failure anywhere rolls all of it back, so a write is never half-done;
 * - `exclusive()`: the process's FIFO lock for read-check-write changes on the cached tables,
 *   as in `level/db.ts` (PostgreSQL's unique constraints back the checks up);
 * - `track()`/`drain()`: message inserts skip the lock; the purger drains them before it reads.
 */
export class PgDb extends WriteGate {
  readonly pool: pg.Pool;
  /** host:port/database, for messages (never the password). */
  readonly where: string;
  /** What a dedicated session needs to reach the same database (the replicas' LISTEN connection). */
  readonly clientConfig: pg.ClientConfig;
  private closed = false;
  private readonly health: Health;

  constructor(
    connection: string,
    private readonly opts: PgDbOptions = {},
  ) {
    super();
    this.health = new Health({
      recover: async () => {
        await this.pool.query('SELECT 1');
      },
      firstMs: PROBE_FIRST_MS,
      maxMs: PROBE_MAX_MS,
      lost: 'connection lost',
      onHealth: opts.onHealth,
    });
    const { config, where } = pgClientConfig(connection);
    this.where = where;
    this.clientConfig = { ...config, types: TYPES, application_name: opts.applicationName ?? 'flow' };
    this.pool = new pg.Pool({
      ...config,
      types: TYPES,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      application_name: opts.applicationName ?? 'flow',
      idle_in_transaction_session_timeout: opts.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS,
    });
    // An idle client whose server went away emits 'error' on the pool; without a listener it would crash the process.
    this.pool.on('error', (err) => this.health.fail(err));
  }

  get healthy(): boolean {
    return this.health.healthy;
  }

  /** Checks that the server answers (at start: a clear error instead of a first failing request). */
  async connect(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (err) {
      throw new FlowError('FLOW_ERR_STORE_UNAVAILABLE', `cannot reach the PostgreSQL database at ${this.where} (database.connection): ${(err as Error).message}`, { cause: err });
    }
  }

  /** One statement on any pooled connection. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** Runs `fn` in one transaction on one connection: committed whole or rolled back whole. */
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.mapError(err);
    }
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      throw this.mapError(err);
    } finally {
      // A connection that failed its ROLLBACK is not given back to the pool.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new FlowError('FLOW_ERR_STORE_CLOSED', 'the store is closed');
    if (!this.healthy) throw this.unavailable();
  }

  /** A driver error as a FlowError where Flow has a kind for it; others pass through (500). */
  mapError(err: unknown): unknown {
    if (err instanceof FlowError) return err;
    if (isConnectionError(err)) {
      this.health.fail(err);
      return this.unavailable(err);
    }
    const e = err as { code?: string; constraint?: string };
    if (e?.code === '23505') return new FlowError('FLOW_ERR_STORE_CONFLICT', conflictText(e.constraint), { cause: err });
    return err;
  }

  private unavailable(cause: unknown = this.health.failure): FlowError {
    return new FlowError('FLOW_ERR_STORE_UNAVAILABLE', `the PostgreSQL database at ${this.where} is unreachable; reconnecting`, { cause });
  }

  /** Throws unless the database is reachable and answers. */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /** Waits for pending writes, then closes the pool. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.settle();
    this.closed = true;
    this.health.stop();
    await this.pool.end();
  }
}

/** The text of a unique violation, by the constraint the schema (`migrations.ts`) names. */
function conflictText(constraint: string | undefined): string {
  switch (constraint) {
    case 'users_name_key':
      return 'username already exists';
    case 'users_oidc_id_key':
      return 'the OIDC identity is linked to another user';
    case 'applications_user_sort_key':
      return 'sort key is not unique';
    case 'plugin_confs_user_module_key':
      return 'the user already has a conf for this plugin';
    default:
      return constraint?.endsWith('token_key') ? 'token already exists' : 'already exists';
  }
}
