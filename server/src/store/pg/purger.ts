import { StepLoop } from '../step-loop.js';
import type { PgDb } from './pg-db.js';

export interface PgPurgerOptions {
  /** Messages removed per statement. */
  chunkSize?: number;
  /** Start working as soon as there is work (false: tools that only read, such as flow migrate). */
  autoStart?: boolean;
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
 * next start resume. A mark is removed only if it was not raised meanwhile. Any server on the
 * database may run it: two purging the same mark delete disjoint or already-deleted rows.
 */
export class PgPurger extends StepLoop {
  private readonly chunkSize: number;
  private again = false;

  constructor(
    private readonly db: PgDb,
    private readonly opts: PgPurgerOptions = {},
  ) {
    super(opts);
    this.chunkSize = opts.chunkSize ?? 1000;
  }

  /** Starts the background loop unless it runs (after a mark was committed, and at open). */
  kick(): void {
    if (this.closed || this.retryTimer || this.opts.autoStart === false) return;
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
    return idle;
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
    const { rowCount } = await this.db.query(
      `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE ${column} = $1 AND id <= $2 ORDER BY id LIMIT $3)`,
      [mark.target_id, mark.up_to, this.chunkSize],
    );
    if ((rowCount ?? 0) < this.chunkSize) {
      await this.db.query('DELETE FROM purge_marks WHERE kind = $1 AND target_id = $2 AND up_to = $3', [mark.kind, mark.target_id, mark.up_to]);
    }
    return true;
  }

}
