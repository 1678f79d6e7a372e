import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { repeatAfter } from '../lib/repeat-after.js';
import type { WriteFence } from '../store/message.js';
import type { PgDb } from '../store/pg/pg-db.js';

/**
 * This running Flow server among the others on one PostgreSQL database, and the registry of them
 * all (table `replicas`, migration 3).
 *
 * A replica's id is new at every start (a restarted server is a new replica: leases held by the
 * old process are not silently inherited). Each replica writes its row at start and refreshes
 * `heartbeat_at` every `periodMs`; a replica whose heartbeat is older than its own `ttl_ms` is
 * dead. Both the heartbeat and the comparison use PostgreSQL's `now()`, so replicas with skewed
 * wall clocks still agree on who is alive. Rows of dead replicas are removed by
 * `removeDead()` (a leader job) and the row of a replica that stops cleanly by `close()`.
 */

/** How often a replica refreshes its heartbeat. */
export const HEARTBEAT_PERIOD_MS = 2_000;
/**
 * A replica silent for this long is dead: five missed heartbeats, so a database hiccup of a few
 * seconds or a busy event loop does not declare a live replica dead.
 */
export const REPLICA_TTL_MS = 10_000;

/** Who this replica is: its id (new per start) and the name people see (`cluster.name`, default the host name). */
export interface ReplicaIdentity {
  readonly id: string;
  readonly name: string;
}

/** A live replica as the registry knows it. */
export interface ReplicaRecord {
  id: string;
  name: string;
  /** Base URL at which the other replicas reach it (`cluster.advertiseurl`); null until it listens. */
  advertiseUrl: string | null;
  /** Module paths of the plugins it has loaded (a replica without a plugin never takes its instances). */
  pluginModules: string[];
  startedAt: string;
  heartbeatAt: string;
}

/** A new identity for this process. */
export function newReplicaIdentity(name: string): ReplicaIdentity {
  return { id: randomUUID(), name: name.trim() === '' ? hostname() : name.trim() };
}

interface ReplicaRow {
  id: string;
  name: string;
  advertise_url: string | null;
  plugin_modules: string[];
  started_at: Date;
  heartbeat_at: Date;
}

const COLUMNS = 'id, name, advertise_url, plugin_modules, started_at, heartbeat_at';
/** The rows whose heartbeat is within their ttl, by the database clock. */
const ALIVE = "heartbeat_at > now() - ttl_ms * interval '1 millisecond'";

const recordOf = (r: ReplicaRow): ReplicaRecord => ({
  id: r.id,
  name: r.name,
  advertiseUrl: r.advertise_url,
  pluginModules: r.plugin_modules,
  startedAt: r.started_at.toISOString(),
  heartbeatAt: r.heartbeat_at.toISOString(),
});

export interface ReplicaRegistryOptions {
  /** Heartbeat period (default HEARTBEAT_PERIOD_MS). */
  periodMs?: number;
  /** Silence after which this replica counts as dead (default REPLICA_TTL_MS); written in its row. */
  ttlMs?: number;
  /** A heartbeat failed (the database is unreachable); it is retried at the next period. */
  onError?: (err: unknown) => void;
  /** Rows of dead replicas were removed (by this replica, as the leader). */
  onRemoved?: (ids: string[]) => void;
  /** The number of live replicas changed (seen at a heartbeat). */
  onMembers?: (live: number) => void;
}

/** This replica's row in `replicas`, kept fresh, and lookups of the others. */
export class ReplicaRegistry {
  private advertiseUrl: string | null = null;
  private pluginModules: string[] = [];
  private stopRepeating: (() => void) | undefined;
  private beating: Promise<void> | undefined;
  private closed = false;
  private members = 0;
  private cleaner: { isLeader(): boolean; fence(): WriteFence | undefined } | undefined;
  private readonly periodMs: number;
  private readonly ttlMs: number;

  constructor(
    private readonly db: PgDb,
    readonly self: ReplicaIdentity,
    private readonly opts: ReplicaRegistryOptions = {},
  ) {
    this.periodMs = opts.periodMs ?? HEARTBEAT_PERIOD_MS;
    this.ttlMs = opts.ttlMs ?? REPLICA_TTL_MS;
  }

  /** Writes this replica's row (the database must answer: it is called at start) and starts the heartbeat. */
  async start(): Promise<void> {
    await this.heartbeat();
    if (!this.closed) this.stopRepeating = repeatAfter(this.periodMs, () => this.tick());
  }

  /** Publishes the URL the other replicas reach this one at (once it listens). */
  async setAdvertiseUrl(url: string): Promise<void> {
    this.advertiseUrl = url;
    await this.heartbeat();
  }

  /** Publishes the module paths of the plugins this replica has loaded (whenever they change). */
  async setPluginModules(modulePaths: readonly string[]): Promise<void> {
    this.pluginModules = [...new Set(modulePaths)].sort();
    await this.heartbeat();
  }

  /**
   * Refreshes this replica's row, writing it again if it was removed (a replica declared dead
   * during a long database outage comes back as soon as it can write).
   */
  heartbeat(): Promise<void> {
    const run = (this.beating ?? Promise.resolve()).then(async () => {
      if (this.closed) return;
      await this.db.query(
        `INSERT INTO replicas (id, name, advertise_url, plugin_modules, ttl_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET advertise_url = EXCLUDED.advertise_url, plugin_modules = EXCLUDED.plugin_modules, ttl_ms = EXCLUDED.ttl_ms, heartbeat_at = now()`,
        [this.self.id, this.self.name, this.advertiseUrl, this.pluginModules, this.ttlMs],
      );
    });
    // Heartbeats never overlap; a failed one does not block the next.
    this.beating = run.catch(() => undefined);
    return run;
  }

  /** The live replicas (this one included once its row is written), oldest first. */
  async live(): Promise<ReplicaRecord[]> {
    const { rows } = await this.db.query<ReplicaRow>(`SELECT ${COLUMNS} FROM replicas WHERE ${ALIVE} ORDER BY started_at, id`);
    return rows.map(recordOf);
  }

  /** The replica `id` if it is alive, else undefined (dead, stopped, or never seen). */
  async get(id: string): Promise<ReplicaRecord | undefined> {
    const { rows } = await this.db.query<ReplicaRow>(`SELECT ${COLUMNS} FROM replicas WHERE id = $1 AND ${ALIVE}`, [id]);
    return rows[0] && recordOf(rows[0]);
  }

  /** The live replicas that have loaded the plugin `modulePath`. */
  async withPlugin(modulePath: string): Promise<ReplicaRecord[]> {
    const { rows } = await this.db.query<ReplicaRow>(`SELECT ${COLUMNS} FROM replicas WHERE $1 = ANY(plugin_modules) AND ${ALIVE} ORDER BY started_at, id`, [modulePath]);
    return rows.map(recordOf);
  }

  /** Removes the rows of dead replicas (with `fence`: only while it holds); returns their ids. */
  async removeDead(fence?: WriteFence): Promise<string[]> {
    const rows = await this.db.tx(async (q) => {
      await fence?.check(q);
      return (await q.query<{ id: string }>(`DELETE FROM replicas WHERE NOT (${ALIVE}) RETURNING id`)).rows;
    });
    return rows.map((r) => r.id);
  }

  /** From now on, removes dead replicas' rows at each heartbeat while `leader` says this replica leads (a singleton job). */
  removeDeadWhile(leader: { isLeader(): boolean; fence(): WriteFence | undefined }): void {
    this.cleaner = leader;
  }

  private async tick(): Promise<void> {
    try {
      await this.heartbeat();
      if (this.cleaner?.isLeader()) {
        const gone = await this.removeDead(this.cleaner.fence());
        if (gone.length > 0) this.opts.onRemoved?.(gone);
      }
      if (this.opts.onMembers) {
        const { rows } = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM replicas WHERE ${ALIVE}`);
        const n = rows[0]?.n ?? 0;
        if (n !== this.members) {
          this.members = n;
          this.opts.onMembers(n);
        }
      }
    } catch (err) {
      if (!this.closed) this.opts.onError?.(err);
    }
  }

  /** Stops the heartbeat and removes this replica's row (a clean stop: the others see it gone at once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopRepeating?.();
    // A heartbeat in flight lands before the row is removed (a later one sees `closed` and does nothing).
    await this.beating;
    await this.db.query('DELETE FROM replicas WHERE id = $1', [this.self.id]).catch(() => undefined);
  }
}
