import { performance } from 'node:perf_hooks';
import { FlowError } from '../errors.js';
import { repeatAfter } from '../lib/repeat-after.js';
import type { Logger } from '../log.js';
import type { WriteFence } from '../store/message.js';
import { leaseFence, type HeldLease, type Leases } from './lease.js';

/**
 * The leader: the one replica that runs the singleton jobs (retention, the purger of bulk
 * deletes, removing dead replicas' rows). It is whoever holds the lease `leader`
 * (cluster/lease.ts); the others try to take it every `periodMs` and one does within
 * `ttlMs + periodMs` after the leader died, or within `periodMs` after it stopped cleanly
 * (it releases the lease).
 *
 * Losing the role safely: the leader renews every `periodMs`. It counts itself leader only
 * until `deadlineMs` after it SENT its last successful renewal (measured on the monotonic
 * clock), and `deadlineMs < ttlMs`: the database set the expiry to its `now()` + ttl, which is
 * after the send, so this replica stops acting before any other could have taken the lease —
 * whatever its wall clock says, even after a database outage or a pause (SIGSTOP, a long GC).
 * Its jobs' writes also carry the lease's fence, checked in their own transaction, for the
 * case the process is paused between the check of `isLeader()` and its write.
 */

/** The lease's name in `leases`. */
export const LEADER_LEASE = 'leader';
/** The leader's lease lasts this long past its last renewal: a dead leader is replaced within about this much. */
export const LEADER_TTL_MS = 5_000;
/** The leader renews, and followers try to take the lease, this often: one small statement per replica per period. */
export const LEADER_PERIOD_MS = 1_000;
/**
 * The leader stops acting this long after sending its last successful renewal: 1.5 s before its
 * lease can expire, a margin for the clock-rate drift between the two machines and for a
 * fenced write already under way.
 */
export const LEADER_DEADLINE_MS = 3_500;

/** What a singleton job needs to know: whether to act now, and the fence its writes carry. */
export interface LeaderRole {
  /** True while this replica may act as the leader. */
  isLeader(): boolean;
  /** The fence of the leader's writes; undefined when the server is alone (LevelDB: nothing to fence against). */
  fence(): WriteFence | undefined;
  /** Called with true when this replica becomes the leader, false when it stops being it. Returns the unsubscribe. */
  onChange(fn: (leader: boolean) => void): () => void;
}

/** A server on LevelDB is the only replica: always the leader, nothing fenced. */
export const ALONE: LeaderRole = {
  isLeader: () => true,
  fence: () => undefined,
  onChange: () => () => undefined,
};

/** A fence that refuses every write: handed out while this replica has never led. */
const NEVER_HELD: WriteFence = {
  check: () => Promise.reject(new FlowError('FLOW_ERR_LEASE_LOST', `this replica does not hold the lease "${LEADER_LEASE}"; the write was not done`)),
};

export interface LeaderElectionOptions {
  log: Logger;
  ttlMs?: number;
  periodMs?: number;
  deadlineMs?: number;
  /** Monotonic milliseconds (tests); default performance.now. */
  now?: () => number;
}

/** Takes, keeps and gives up the `leader` lease for this replica. */
export class LeaderElection implements LeaderRole {
  private held: HeldLease | undefined;
  /** Monotonic time until which this replica may act (valid only while `held`). */
  private validUntil = 0;
  private leading = false;
  private stopRepeating: (() => void) | undefined;
  private stepDownTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private closed = false;
  private failing = false;
  private readonly listeners = new Set<(leader: boolean) => void>();
  private readonly ttlMs: number;
  private readonly periodMs: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;

  constructor(
    private readonly leases: Leases,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? LEADER_TTL_MS;
    this.periodMs = opts.periodMs ?? LEADER_PERIOD_MS;
    this.deadlineMs = opts.deadlineMs ?? LEADER_DEADLINE_MS;
    this.now = opts.now ?? (() => performance.now());
    if (this.deadlineMs >= this.ttlMs) throw new Error('the leader deadline must be shorter than the lease ttl');
  }

  isLeader(): boolean {
    return this.leading && this.held !== undefined && this.now() < this.validUntil;
  }

  fence(): WriteFence {
    return this.held ? leaseFence(this.held.name, this.held.token) : NEVER_HELD;
  }

  onChange(fn: (leader: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The first attempt (awaited: a lone server leads as soon as it starts), then one per period. */
  async start(): Promise<void> {
    await this.tick();
    if (!this.closed) this.stopRepeating = repeatAfter(this.periodMs, () => this.tick());
  }

  private tick(): Promise<void> {
    const run = this.ticking.then(() => this.attempt());
    this.ticking = run.catch(() => undefined);
    return run;
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    const sentAt = this.now();
    try {
      if (this.held) {
        const kept = await this.leases.renew([this.held], this.ttlMs);
        if (this.closed) return;
        if (kept.has(LEADER_LEASE)) this.confirm(sentAt);
        else {
          this.opts.log.warn({ token: this.held.token }, 'the leader lease expired before it could be renewed: this replica is a follower now');
          this.held = undefined;
          this.setLeading(false);
        }
      } else {
        const token = await this.leases.acquire(LEADER_LEASE, this.ttlMs);
        if (this.closed || token === null) return;
        this.held = { name: LEADER_LEASE, token };
        this.confirm(sentAt);
      }
      if (this.failing) {
        this.failing = false;
        this.opts.log.info('the leader lease can be read and renewed again');
      }
    } catch (err) {
      // The database is unreachable: the step-down timer ends the role in time; keep trying.
      if (!this.failing && !this.closed) {
        this.failing = true;
        this.opts.log.warn({ err }, 'cannot take or renew the leader lease (database unreachable?); retrying');
      }
    }
  }

  /** A renewal sent at `sentAt` succeeded: act until `sentAt + deadline`, then step down unless renewed again. */
  private confirm(sentAt: number): void {
    this.validUntil = sentAt + this.deadlineMs;
    clearTimeout(this.stepDownTimer);
    const left = this.validUntil - this.now();
    if (left <= 0) {
      // The answer came later than the deadline itself (a pause between send and answer): not the leader.
      this.setLeading(false);
      return;
    }
    this.stepDownTimer = setTimeout(() => {
      if (this.isLeader()) return;
      this.opts.log.warn('the leader lease was not renewed in time: this replica stops acting as the leader');
      this.setLeading(false);
    }, left + 1);
    this.stepDownTimer.unref();
    this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.opts.log.info({ token: this.held?.token }, 'this replica is the leader: it runs retention, purges and cleanup');
    else this.opts.log.info('this replica is a follower');
    for (const fn of this.listeners) {
      try {
        fn(leading);
      } catch (err) {
        this.opts.log.error({ err }, 'a leader change handler failed');
      }
    }
  }

  /** Stops trying; releases the lease if held so a follower takes over at its next attempt. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopRepeating?.();
    clearTimeout(this.stepDownTimer);
    await this.ticking;
    const held = this.held;
    this.held = undefined;
    this.setLeading(false);
    if (held) {
      await this.leases.release(held.name, held.token).catch((err: unknown) => this.opts.log.warn({ err }, 'could not release the leader lease (it expires by itself)'));
    }
  }
}
