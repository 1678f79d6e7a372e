/**
 * The process's write discipline on a store, the same for both backends: `exclusive()` is a
 * FIFO lock for read-check-write changes on the cached tables (uniqueness, cascades, a cache
 * refresh from another replica), and `track()`/`drain()` let lock-free message inserts be
 * waited for (the purger drains them before it reads; close waits for them).
 */
export class WriteGate {
  private tail: Promise<unknown> = Promise.resolve();
  private inflight = new Set<Promise<unknown>>();

  /** Runs `fn` after every earlier exclusive section has finished. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Registers a lock-free write so `drain()` can wait for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Waits for every tracked write started before this call. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  /** Waits for the exclusive sections queued so far and every tracked write (close). */
  protected async settle(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.drain();
  }
}
