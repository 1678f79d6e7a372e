import { FlowError } from '../errors.js';
import type { PgDb, Queryable } from '../store/pg/pg-db.js';
import type { WriteFence } from '../store/message.js';

/**
 * Named leases in the `leases` table (migration 3): "replica `holder` may act as `name` until
 * `expires_at`". What is leased is up to the caller: `leader` for the singleton jobs
 * (cluster/leader.ts), one lease per plugin instance for the plugin host.
 *
 * Clock safety: every expiry is written and compared by PostgreSQL (`now() + ttl`,
 * `expires_at > now()`), so replicas whose wall clocks disagree still agree on who holds a lease.
 * A replica only measures DURATIONS with its own monotonic clock (how long since it sent its
 * last successful renewal), never instants.
 *
 * Fencing: each change of holder draws a new token from `lease_token_seq`, so tokens only grow
 * and are never reused, even for a lease deleted and taken again. A write done on behalf of a
 * lease runs `fence(name, token).check(tx)` in its own transaction: the row is read `FOR SHARE`,
 * so the write commits only while that token still holds an unexpired lease, and a takeover
 * (an UPDATE of the row) waits until the write has committed. A replica that was paused (SIGSTOP,
 * a long GC, a VM migration) and resumes after its lease moved on is refused at that check.
 */

/** A lease this replica holds: its name and the fencing token of this tenure. */
export interface HeldLease {
  name: string;
  token: number;
}

/** Who holds a lease now, as PostgreSQL sees it. */
export interface LeaseState {
  name: string;
  holder: string;
  token: number;
  /** Milliseconds until it expires by the database clock (<= 0: expired, free to take). */
  remainingMs: number;
}

/** `now()` plus the ttl in milliseconds held by the statement parameter `param` (e.g. `$3`). */
const expiryAfter = (param: string): string => `now() + (${param}::double precision * interval '1 millisecond')`;

/** The check a fenced write runs in its transaction: the lease row, locked against takeover until commit. */
async function assertHeld(q: Queryable, name: string, token: number): Promise<void> {
  const { rowCount } = await q.query('SELECT 1 FROM leases WHERE name = $1 AND token = $2 AND expires_at > now() FOR SHARE', [name, token]);
  if (rowCount === 0) throw new FlowError('FLOW_ERR_LEASE_LOST', `this replica no longer holds the lease "${name}" (token ${token}); the write was not done`);
}

/** The fence for writes done under the lease `name` in the tenure `token`. */
export function leaseFence(name: string, token: number): WriteFence {
  return { check: (q) => assertHeld(q, name, token) };
}

/** The leases of one holder (this replica's id) on one database. */
export class Leases {
  constructor(
    private readonly db: PgDb,
    /** The replica id written as holder (cluster/replica.ts). */
    readonly holder: string,
  ) {}

  /**
   * Takes the lease `name` for `ttlMs` if it is free (absent or expired) or already ours; returns
   * the fencing token of this tenure, or null when another replica holds it. Taking it anew draws
   * a new token; asking again while holding it extends it and keeps the token.
   */
  async acquire(name: string, ttlMs: number): Promise<number | null> {
    const { rows } = await this.db.query<{ token: number }>(
      `INSERT INTO leases AS l (name, holder, token, expires_at) VALUES ($1, $2, nextval('lease_token_seq'), ${expiryAfter('$3')})
       ON CONFLICT (name) DO UPDATE
         SET holder = EXCLUDED.holder,
             token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now() THEN l.token ELSE EXCLUDED.token END,
             expires_at = EXCLUDED.expires_at
         WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder
       RETURNING l.token`,
      [name, this.holder, ttlMs],
    );
    return rows[0]?.token ?? null;
  }

  /**
   * Extends every lease in `held` by `ttlMs` in one statement; returns the names still held. A
   * lease that expired meanwhile is NOT revived (another replica may have acted on it since):
   * it is missing from the answer and must be acquired again, with a new token.
   */
  async renew(held: readonly HeldLease[], ttlMs: number): Promise<Set<string>> {
    if (held.length === 0) return new Set();
    const { rows } = await this.db.query<{ name: string }>(
      `UPDATE leases AS l SET expires_at = ${expiryAfter('$4')}
       FROM unnest($2::text[], $3::bigint[]) AS h(name, token)
       WHERE l.name = h.name AND l.token = h.token AND l.holder = $1 AND l.expires_at > now()
       RETURNING l.name`,
      [this.holder, held.map((h) => h.name), held.map((h) => h.token), ttlMs],
    );
    return new Set(rows.map((r) => r.name));
  }

  /** Gives the lease up at once (a clean stop): another replica may take it with its next attempt. False if it was not ours any more. */
  async release(name: string, token: number): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM leases WHERE name = $1 AND token = $2 AND holder = $3', [name, token, this.holder]);
    return (rowCount ?? 0) > 0;
  }

  /** Gives up every lease of this holder; returns how many. */
  async releaseAll(): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM leases WHERE holder = $1', [this.holder]);
    return rowCount ?? 0;
  }

  /** The holder of `name` by the database clock, or undefined when nobody ever took it or it was released. */
  async state(name: string): Promise<LeaseState | undefined> {
    const { rows } = await this.db.query<{ holder: string; token: number; remaining_ms: number }>(
      'SELECT holder, token, (extract(epoch FROM expires_at - now()) * 1000)::bigint AS remaining_ms FROM leases WHERE name = $1',
      [name],
    );
    const r = rows[0];
    return r && { name, holder: r.holder, token: r.token, remainingMs: r.remaining_ms };
  }

  /** The fence for writes under `lease` (see `leaseFence`). */
  fence(lease: HeldLease): WriteFence {
    return leaseFence(lease.name, lease.token);
  }
}
