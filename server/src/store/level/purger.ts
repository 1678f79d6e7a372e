import { StepLoop } from '../step-loop.js';
import { type Db } from './db.js';
import { type Op, pad, del } from './ops.js';
import { appKey, appPrefix, idOf, recKey, userKey, userPrefix } from './message-keys.js';
import type { PurgeMark, PurgeMarks } from './purge-marks.js';

export interface PurgerOptions {
  /** Messages removed per batch (each is 3 keys). */
  chunkSize?: number;
  /** Start working as soon as there is work (false: tests drive it with `step()`). */
  autoStart?: boolean;
  /** Purges of at least this many messages are followed by a compaction of the ranges they emptied. */
  compactAfter?: number;
  /** A failed chunk (e.g. disk full) is reported here and retried after `retryMs`. */
  onError?: (err: unknown) => void;
  retryMs?: number;
}

/** Progress of the purge of one user or application: where the next chunk starts, what to compact. */
interface Target {
  mark: PurgeMark;
  /** Last index key removed (the next chunk starts after it). */
  after?: string;
  drained: boolean;
  removed: number;
  minId: number;
  maxId: number;
  /** Applications whose a-m! ranges a user purge touched. */
  apps: Set<number>;
}

const targetId = (m: PurgeMark) => (m.kind === 'user' ? 'u' + m.userId : 'a' + m.appId);

/**
 * Removes the messages named by the purge marks in the background, in bounded chunks: one
 * iterator read of at most `chunkSize` index entries and one batch deleting each message's
 * three keys, then a yield to the event loop. Memory stays bounded by one chunk whatever the
 * size of the delete, and no request ever waits for it (reads honour the marks meanwhile).
 * Each batch is atomic, so a crash between chunks leaves every message either whole or gone;
 * the marks are durable, so the next start resumes. When a mark's range is empty the mark is
 * removed and the emptied key ranges are compacted, so listings do not step over tombstones.
 */
export class Purger extends StepLoop {
  private readonly chunkSize: number;
  private readonly compactAfter: number;
  private targets = new Map<string, Target>();

  constructor(
    private readonly db: Db,
    private readonly marks: PurgeMarks,
    private readonly opts: PurgerOptions = {},
  ) {
    super(opts);
    this.chunkSize = opts.chunkSize ?? 1000;
    this.compactAfter = opts.compactAfter ?? 10_000;
  }

  /** Starts the background loop unless it runs (called after a mark was committed, and at open). */
  kick(): void {
    if (this.closed || this.running || this.retryTimer || this.opts.autoStart === false) return;
    if (this.marks.size === 0) return this.wakeIdle();
    this.running = this.loop().finally(() => {
      this.running = undefined;
      // A mark committed while the last step was finding nothing: go on.
      if (this.marks.size === 0) this.wakeIdle();
      else if (!this.retryTimer) this.kick();
    });
  }

  /** Resolves once no purge is pending (tests, benches, shutdown of tools). */
  idle(): Promise<void> {
    if (this.marks.size === 0) return Promise.resolve();
    const idle = this.untilIdle();
    this.kick();
    return idle;
  }

  /**
   * Does one unit of work: one chunk of one mark, or finishing a mark whose range is empty.
   * Returns false when nothing is pending. Public so tests can stop between any two chunks.
   */
  async step(): Promise<boolean> {
    const mark = this.marks.next();
    if (!mark) return false;
    const id = targetId(mark);
    let t = this.targets.get(id);
    if (!t || t.mark !== mark) {
      // New or raised mark: continue where the previous one of this target stopped.
      t = { removed: 0, minId: Infinity, maxId: 0, apps: new Set(), ...t, mark, drained: false };
      this.targets.set(id, t);
    }
    if (!t.drained) {
      // Inserts in flight may still hold ids ≤ upTo; they land before the range is read.
      await this.db.drain();
      t.drained = true;
    }
    const done = await this.chunk(t);
    if (done) await this.finish(t);
    return true;
  }

  /** Removes up to chunkSize messages of the target; true when its range is exhausted. */
  private async chunk(t: Target): Promise<boolean> {
    const m = t.mark;
    const prefix = m.kind === 'user' ? userPrefix(m.userId) : appPrefix(m.appId);
    const range =
      t.after === undefined
        ? { gte: prefix, lte: prefix + pad(m.upTo), limit: this.chunkSize }
        : { gt: t.after, lte: prefix + pad(m.upTo), limit: this.chunkSize };
    const ops: Op[] = [];
    let last: string | undefined;
    let n = 0;
    if (m.kind === 'user') {
      const entries = await this.db.level.iterator(range).all();
      for (const [k, appId] of entries) {
        const id = idOf(k);
        const a = Number(appId);
        ops.push(del(recKey(id)), del(appKey(a, id)), del(k));
        t.apps.add(a);
        this.note(t, id);
        last = k;
      }
      n = entries.length;
    } else {
      const keys = await this.db.level.keys(range).all();
      for (const k of keys) {
        const id = idOf(k);
        ops.push(del(recKey(id)), del(k), del(userKey(m.userId, id)));
        this.note(t, id);
        last = k;
      }
      n = keys.length;
    }
    if (n > 0) {
      await this.db.batch(ops);
      t.after = last;
      t.removed += n;
    }
    return n < this.chunkSize;
  }

  private note(t: Target, id: number): void {
    if (id < t.minId) t.minId = id;
    if (id > t.maxId) t.maxId = id;
  }

  /** Removes the mark if it was not raised meanwhile, then compacts what a large purge emptied. */
  private async finish(t: Target): Promise<void> {
    const cleared = await this.db.exclusive(async () => {
      if (!this.marks.isCurrent(t.mark)) return false;
      await this.db.batch([this.marks.clearOp(t.mark)]);
      this.marks.remove(t.mark);
      return true;
    });
    if (!cleared) return;
    this.targets.delete(targetId(t.mark));
    if (t.removed >= this.compactAfter) await this.compact(t);
  }

  /**
   * Compacts the index ranges the purge emptied: listings scan these in order and would step over
   * every tombstone until LevelDB compacts them by itself. The records (m!) are only read by id,
   * where tombstones cost little, and their range spans every other message too, so it is left
   * to LevelDB.
   */
  private async compact(t: Target): Promise<void> {
    const m = t.mark;
    const ranges: [string, string][] = [];
    if (m.kind === 'user') {
      ranges.push([userPrefix(m.userId), userKey(m.userId, t.maxId)]);
      for (const a of t.apps) ranges.push([appPrefix(a), appKey(a, t.maxId)]);
    } else {
      ranges.push([appPrefix(m.appId), appKey(m.appId, t.maxId)], [userKey(m.userId, t.minId), userKey(m.userId, t.maxId)]);
    }
    for (const [start, end] of ranges) {
      if (this.closed) return;
      // `level` is classic-level on Node, which has compactRange; its type does not say so.
      await (this.db.level as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange(start, end);
    }
  }

}
