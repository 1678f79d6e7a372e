import type { WriteFence } from '../message.js';
import { StepLoop } from '../step-loop.js';
import type { PgDb } from './pg-db.js';

/** While several replicas share the database, only the leader purges (cluster/leader.ts). */
export interface PurgeLeader {
  isLeader(): boolean;
  fence(): WriteFence | undefined;
  onChange(fn: (leader: boolean) => void): () => void;
}

/**
 * How often the leader looks for marks raised by other replicas (its own kick it at once): a
 * pending mark already hides its messages from every read, so this only bounds how long their
 * rows take up space.
 */
const LEADER_RECHECK_MS = 5_000;

export interface PgPurgerOptions {
  /** Messages removed per statement. */
  chunkSize?: number;
  /** Start working as soon as there is work (false: tools that only read, such as flow migrate). */
  autoStart?: boolean;
  /**
   * A server (which may be one of several replicas): purge nothing until `follow()` names the
   * leader role, then only while this replica leads, each chunk fenced by the leader's lease.
   */
  leaderOnly?: boolean;
  /** A failed chunk (e.g. the database is unreachable) is reported here and retried after `retryMs`. */
  onError?: (err: unknown) => void;
  retryMs?: number;
}

interface Mark {
  kind: 'u' | 'a';
  target_id: number;
  up_to: number;
}

/**
 * Removes the messages named by `purge_marks` in the background, as LevelDB's purger does: one
 * DELETE of at most `chunkSize` rows per step, then a yield; each step is its own statement, so
 * a crash between steps leaves every message whole or gone, and the marks (durable) let the
 * next start resume. A mark is removed only if it was not raised meanwhile. Two purgers on one
 * mark would only delete disjoint or already-deleted rows, yet with `leaderOnly` a server purges
 * only as the leader of its replicas (a singleton job), each chunk in a transaction fenced by the
 * leader lease, and looks for other replicas' marks every LEADER_RECHECK_MS.
 */
export class PgPurger extends StepLoop {
  private readonly chunkSize: number;
  private again = false;
  private leader: PurgeLeader | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: PgDb,
    private readonly opts: PgPurgerOptions = {},
  ) {
    super(opts);
    this.chunkSize = opts.chunkSize ?? 1000;
  }

  /** Purges while `leader` leads (with `leaderOnly`): at once when it becomes the leader, then at every mark and recheck. */
  follow(leader: PurgeLeader): void {
    this.leader = leader;
    leader.onChange((leading) => {
      if (leading) this.kick();
    });
    const recheck = () => {
      this.recheckTimer = setTimeout(() => {
        if (this.closed) return;
        this.kick();
        recheck();
      }, LEADER_RECHECK_MS);
      this.recheckTimer.unref();
    };
    recheck();
    this.kick();
  }

  /** Whether this purger may work now (also checked between steps). */
  protected override proceed(): boolean {
    return this.active();
  }

  private active(): boolean {
    if (this.closed || this.opts.autoStart === false) return false;
    return !this.opts.leaderOnly || this.leader?.isLeader() === true;
  }

  /** Starts the background loop unless it runs (after a mark was committed, and at open). */
  kick(): void {
    if (this.retryTimer || !this.active()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.again && !this.retryTimer) {
        this.again = false;
        this.kick();
      } else if (!this.retryTimer) this.wakeIdle();
    });
  }

  /** Resolves once no purge is pending (tests, benches). */
  idle(): Promise<void> {
    const idle = this.untilIdle();
    if (!this.running && !this.retryTimer) this.kick();
    // Not the leader: nothing runs here, so nothing is pending here.
    if (!this.running && !this.retryTimer) this.wakeIdle();
    return idle;
  }

  /** Stops after the step in flight; pending marks stay in the database for the next start. */
  override async close(): Promise<void> {
    clearTimeout(this.recheckTimer);
    await super.close();
  }

  /** One chunk of one mark, or removing a mark whose messages are gone. False when none is pending. */
  async step(): Promise<boolean> {
    // Users first: a user's purge also covers its applications' marks.
    const { rows } = await this.db.query<Mark>('SELECT kind, target_id, up_to FROM purge_marks ORDER BY kind DESC LIMIT 1');
    const mark = rows[0];
    if (!mark) return false;
    // Inserts in flight may hold ids <= up_to; they land before the range is read.
    await this.db.drain();
    const column = mark.kind === 'u' ? 'user_id' : 'app_id';
    const fence = this.opts.leaderOnly ? this.leader?.fence() : undefined;
    await this.db.tx(async (q) => {
      await fence?.check(q);
      const { rowCount } = await q.query(
        `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE ${column} = $1 AND id <= $2 ORDER BY id LIMIT $3)`,
        [mark.target_id, mark.up_to, this.chunkSize],
      );
      if ((rowCount ?? 0) < this.chunkSize) {
        await q.query('DELETE FROM purge_marks WHERE kind = $1 AND target_id = $2 AND up_to = $3', [mark.kind, mark.target_id, mark.up_to]);
      }
    });
    return true;
  }

}
