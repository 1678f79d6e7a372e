/** How long an id below ids already seen may stay unseen before it counts as never committing. */
const HOLE_MS = 30_000;
/** Ids above the watermark kept at most; past this the oldest hole is given up at once. */
const MAX_ABOVE = 100_000;

/**
 * The message ids a replica has seen, as a watermark: every id at or below `mark` was seen
 * (or given up), and the ids above it that were seen are kept in a set. Ids are drawn from one
 * sequence but commit out of order (id 9 may commit after id 10), so "highest id seen" is not
 * a safe point to catch up from after a lost LISTEN connection: a late commit below it would
 * be missed. The watermark stops at the lowest unseen id instead, and a catch-up reads from it,
 * skipping what `has()` knows. An id that never commits (a failed insert) would hold the
 * watermark for ever, so a hole older than HOLE_MS is given up: an insert is one statement,
 * and none takes that long to commit after a later id did.
 */
export class IdWatermark {
  private low = 0;
  private above = new Set<number>();
  /** When the current lowest hole was first noticed, and at which watermark. */
  private hole: { at: number; since: number } | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly holeMs = HOLE_MS,
  ) {}

  /** Every id at or below this was seen or given up. */
  get mark(): number {
    return this.low;
  }

  /** Ids seen above the mark (diagnostics, tests). */
  get pending(): number {
    return this.above.size;
  }

  /** Starts over at `mark` (at start: the last id committed before listening began). */
  reset(mark: number): void {
    this.low = mark;
    this.above.clear();
    this.hole = undefined;
  }

  /** True when `id` was seen since the mark passed it (ids at or below the mark answer false: they may be late commits). */
  has(id: number): boolean {
    return this.above.has(id);
  }

  /**
   * Every id up to `id` counts as seen: a catch-up read all of them that matter here. An id below
   * it that commits later still arrives by its notification (delivery never asks the watermark).
   */
  passTo(id: number): void {
    if (id <= this.low) return;
    this.low = id;
    for (const seen of this.above) if (seen <= id) this.above.delete(seen);
    this.hole = undefined;
    this.advance();
  }

  see(id: number): void {
    if (id <= this.low || this.above.has(id)) return;
    this.above.add(id);
    this.advance();
  }

  private advance(): void {
    while (this.above.delete(this.low + 1)) this.low++;
    if (this.above.size === 0) {
      this.hole = undefined;
      return;
    }
    const now = this.now();
    if (this.hole?.at !== this.low) this.hole = { at: this.low, since: now };
    if (now - this.hole.since >= this.holeMs || this.above.size > MAX_ABOVE) {
      // Given up: the lowest seen id above the hole becomes the next step.
      this.low = this.minAbove() - 1;
      this.advance();
    }
  }

  private minAbove(): number {
    let min = Infinity;
    for (const id of this.above) if (id < min) min = id;
    return min;
  }
}
