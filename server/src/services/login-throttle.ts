import { HttpError } from '../errors.js';

/** A login refused without checking the password: 429 with the seconds to wait (Retry-After). */
export class TooManyLogins extends HttpError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, `too many failed logins: try again in ${retryAfterSeconds} s`);
  }
}

interface Bucket {
  /** Failed attempts still counted (each one leaks out after `leakMs`). */
  level: number;
  at: number;
}

export interface ThrottleLimits {
  /** Failures allowed in a burst before attempts are refused. */
  burst: number;
  /** One counted failure is forgotten per this many milliseconds. */
  leakMs: number;
}

/** Keys kept per kind; beyond it the oldest are dropped (a flood of addresses cannot grow memory). */
const MAX_KEYS = 50_000;

/** Failed logins per key as a leaky bucket: `burst` failures, then one more per `leakMs`. */
class FailureBuckets {
  private buckets = new Map<string, Bucket>();

  constructor(private readonly limits: ThrottleLimits) {}

  private levelOf(key: string, now: number): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const level = Math.max(0, b.level - (now - b.at) / this.limits.leakMs);
    if (level === 0) this.buckets.delete(key);
    return level;
  }

  /** Milliseconds until one more attempt is allowed; 0 when it is allowed now. */
  waitMs(key: string, now: number): number {
    const level = this.levelOf(key, now);
    return level + 1 > this.limits.burst ? Math.ceil((level + 1 - this.limits.burst) * this.limits.leakMs) : 0;
  }

  fail(key: string, now: number): void {
    const level = this.levelOf(key, now) + 1;
    this.buckets.delete(key);
    this.buckets.set(key, { level, at: now });
    if (this.buckets.size > MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/**
 * Throttles password guessing, per source address and per user name (Gotify has no throttle).
 * Only failures count; while either bucket is full the attempt is refused with 429 before bcrypt
 * runs, so a storm of wrong passwords costs almost nothing. Credentials verified recently skip
 * the throttle (UserService's cache), so a client that knows its password keeps working while
 * someone guesses its user's password from elsewhere.
 */
export class LoginThrottle {
  private readonly bySource: FailureBuckets;
  private readonly byName: FailureBuckets;

  constructor(
    limits: { source: ThrottleLimits; name: ThrottleLimits } = {
      // 10 wrong passwords at once from one address, then one per 6 s (10 a minute).
      source: { burst: 10, leakMs: 6_000 },
      // A user name is guessed from many addresses: 20 at once, then one per 3 s.
      name: { burst: 20, leakMs: 3_000 },
    },
    private readonly now: () => number = Date.now,
  ) {
    this.bySource = new FailureBuckets(limits.source);
    this.byName = new FailureBuckets(limits.name);
  }

  /** Throws TooManyLogins when this source or this name has failed too often lately. */
  check(name: string, source: string | undefined): void {
    const now = this.now();
    const wait = Math.max(source === undefined ? 0 : this.bySource.waitMs(source, now), this.byName.waitMs(name, now));
    if (wait > 0) throw new TooManyLogins(Math.max(1, Math.ceil(wait / 1000)));
  }

  failed(name: string, source: string | undefined): void {
    const now = this.now();
    if (source !== undefined) this.bySource.fail(source, now);
    this.byName.fail(name, now);
  }
}
