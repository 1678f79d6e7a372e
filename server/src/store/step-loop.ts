export interface StepLoopOptions {
  /** A failed step is reported here and the work started again after `retryMs` (default 1 s). */
  onError?: (err: unknown) => void;
  retryMs?: number;
}

/**
 * Background work done in steps, the same for both backends' purgers: `loop()` runs `step()`
 * until it reports nothing left, yielding to the event loop between steps so no request waits
 * for it; a failed step (disk full, database unreachable) is reported and the work is kicked
 * again after a pause; `close()` stops after the step in flight. When work starts and what
 * "idle" means is the subclass's (`kick`).
 */
export abstract class StepLoop {
  protected running: Promise<void> | undefined;
  protected retryTimer: NodeJS.Timeout | undefined;
  protected closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly loopOpts: StepLoopOptions) {}

  /** One unit of work; false when nothing is pending. */
  abstract step(): Promise<boolean>;
  /** Starts the loop unless it runs or waits for a retry. */
  abstract kick(): void;

  /** Whether to go on with the next step (the subclass may add conditions, e.g. still being the leader). */
  protected proceed(): boolean {
    return !this.closed;
  }

  protected async loop(): Promise<void> {
    try {
      while (this.proceed() && (await this.step())) await new Promise<void>((r) => setImmediate(r));
    } catch (err) {
      if (this.closed) return;
      this.loopOpts.onError?.(err);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.loopOpts.retryMs ?? 1000);
      this.retryTimer.unref();
    }
  }

  /** Resolves at the next `wakeIdle()`. */
  protected untilIdle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  protected wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Stops after the step in flight; pending work stays stored for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.running;
    this.wakeIdle();
  }
}
