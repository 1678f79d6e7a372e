/**
 * Bounds how many lines one plugin adds to the server log (spec §13: hosts MAY rate-limit):
 * a burst of `burst` lines, refilled at `perSecond`. A plugin printing error lines in a loop
 * would otherwise fill the log's disk, or the memory of pino's asynchronous destination when
 * the log sink is slower than the plugin. Lines over the budget are dropped and counted; the
 * next line that fits is preceded by one warning with the count. The admin endpoint's stderr
 * ring is not affected: it keeps the last lines whatever the rate.
 */
export class LogBudget {
  private tokens: number;
  private last = Date.now();
  private dropped = 0;

  constructor(
    private readonly perSecond = 200,
    private readonly burst = 1000,
  ) {
    this.tokens = burst;
  }

  /** Whether one more line may be logged. `reportDropped` runs first when lines were dropped since the last one. */
  take(reportDropped: (dropped: number) => void): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) {
      this.dropped++;
      return false;
    }
    this.tokens--;
    if (this.dropped > 0) {
      const n = this.dropped;
      this.dropped = 0;
      reportDropped(n);
    }
    return true;
  }
}

/** The warning logged in place of the lines a plugin lost to its LogBudget. */
export const DROPPED_LOG_LINES = 'plugin log lines dropped: over the rate limit of the server log';
