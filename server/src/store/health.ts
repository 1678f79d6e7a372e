export interface HealthOptions {
  /** Brings the database back (reopen, reconnect); rejects while it cannot. */
  recover: () => Promise<void>;
  /** The first attempt this long after the failure, then doubling up to `maxMs`. */
  firstMs: number;
  maxMs: number;
  /** What the failure is when the error gave none (`write failed`, `connection lost`). */
  lost: string;
  onHealth?: (healthy: boolean, err?: unknown) => void;
}

/**
 * Whether a backend's database works, the same for both `Db`s: the first failure marks it
 * unhealthy (the caller then answers FLOW_ERR_STORE_UNAVAILABLE at once, citing `failure`) and
 * starts recovery attempts with backoff in the background until one succeeds; `onHealth` is told
 * both ways. The timer does not keep the process alive.
 */
export class Health {
  private cause: unknown;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: HealthOptions) {}

  get healthy(): boolean {
    return this.cause === undefined;
  }

  /** What made the database unhealthy (undefined while healthy). */
  get failure(): unknown {
    return this.cause;
  }

  /** Marks the database unhealthy and starts recovering it (nothing when it already is, or after `stop`). */
  fail(err: unknown): void {
    if (!this.healthy || this.stopped) return;
    this.cause = err ?? new Error(this.opts.lost);
    this.opts.onHealth?.(false, err);
    this.schedule(this.opts.firstMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attempt = this.opts.recover().then(
        () => {
          this.attempt = undefined;
          if (this.stopped) return;
          this.cause = undefined;
          this.opts.onHealth?.(true);
        },
        () => {
          this.attempt = undefined;
          this.schedule(Math.min(ms * 2, this.opts.maxMs));
        },
      );
    }, ms);
    this.timer.unref();
  }

  /** No attempt starts from now on. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Resolves when the attempt in flight (if any) has ended. */
  async settled(): Promise<void> {
    await this.attempt?.catch(() => undefined);
  }
}
