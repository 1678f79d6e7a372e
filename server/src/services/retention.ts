import type { LeaderRole } from '../cluster/leader.js';
import { FlowError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import { effectiveRetention, type ApplicationRecord, type Retention } from '../model/application.js';
import type { ApplicationStore } from '../store/application.js';
import type { MessageStore } from '../store/message.js';

export interface RetentionServiceDeps {
  applications: ApplicationStore;
  messages: MessageStore;
  bus: EventBus;
  log: Logger;
  /** Server-wide default for applications that did not set their own (config `retention.*`, 0 = none). */
  defaults: { maxCount: number; maxAgeSeconds: number };
  /** How often every application's age limit is checked. */
  intervalMs: number;
  /** Milliseconds since the epoch (tests inject a clock). */
  clock?: () => number;
  /**
   * With several replicas on one database only the leader enforces retention, its marks fenced
   * by the leader lease (cluster/leader.ts); default: always (a server alone).
   */
  leader?: LeaderRole;
}

/** A burst of messages to an application with a count limit is checked once, this long after its first message. */
const COUNT_CHECK_DELAY_MS = 1000;

/**
 * Keeps applications within their retention (`maxCount` newest messages, none older than
 * `maxAgeSeconds`). It never deletes keys itself: it finds the newest id to drop and raises the
 * application's purge mark, so the messages disappear from the API at once and the purger
 * removes them in the background in bounded chunks, as for any bulk delete.
 * Count limits are checked shortly after an application receives messages; age limits every
 * `intervalMs` (and both at start). Checks run one application at a time.
 * Among replicas only the leader checks (a sweep as soon as it becomes the leader); a count limit
 * of an application whose messages arrive at other replicas is enforced at the next sweep.
 */
export class RetentionService {
  private readonly clock: () => number;
  private readonly dirty = new Set<number>();
  private countTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  private unfollow: (() => void) | undefined;

  constructor(private readonly deps: RetentionServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private leads(): boolean {
    return this.deps.leader?.isLeader() ?? true;
  }

  /** The limits in force for the application (its own, else the server default). */
  effective(a: ApplicationRecord): Retention {
    return effectiveRetention(a, this.deps.defaults);
  }

  /** Subscribes to new messages, runs a first full check and starts the age timer. */
  start(): void {
    this.unsubscribe = this.deps.bus.on('messageCreated', ({ message, application }) => {
      if (this.effective(application).maxCount === null || !this.leads()) return;
      this.dirty.add(message.appId);
      if (!this.countTimer && !this.closed) {
        this.countTimer = setTimeout(() => {
          this.countTimer = undefined;
          void this.enqueue(() => this.checkDirty());
        }, COUNT_CHECK_DELAY_MS);
        this.countTimer.unref();
      }
    });
    this.ageTimer = setInterval(() => void this.sweep(), this.deps.intervalMs);
    this.ageTimer.unref();
    this.unfollow = this.deps.leader?.onChange((leading) => {
      if (leading) void this.sweep();
    });
    void this.sweep();
  }

  /**
   * Checks every application now (count and age limits); resolves when the purge marks are
   * committed (the API no longer shows the dropped messages; the purger removes them later).
   */
  sweep(): Promise<void> {
    return this.enqueue(async () => {
      this.dirty.clear();
      for (const a of this.deps.applications.all()) {
        if (this.closed || !this.leads()) return;
        await this.check(a);
      }
    });
  }

  /** Checks one application now (after its retention was changed). */
  checkApplication(appId: number): Promise<void> {
    return this.enqueue(async () => {
      const a = this.deps.applications.get(appId);
      if (a && this.leads()) await this.check(a);
    });
  }

  private async checkDirty(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      if (this.closed || !this.leads()) return;
      const a = this.deps.applications.get(id);
      if (a) await this.check(a, { ageToo: false });
    }
  }

  /** Checks run one after another, so two never raise the same mark twice. */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.running.then(fn).catch((err: unknown) => {
      if (this.closed) return;
      if (err instanceof FlowError && err.code === 'FLOW_ERR_LEASE_LOST') this.deps.log.warn('retention check dropped: this replica is not the leader any more');
      else this.deps.log.error({ err }, 'retention check failed');
    });
    this.running = run;
    return run;
  }

  private async check(a: ApplicationRecord, opts: { ageToo?: boolean } = {}): Promise<void> {
    const r = this.effective(a);
    let upTo = 0;
    if (r.maxCount !== null) upTo = await this.deps.messages.idAtRank(a.id, a.userId, r.maxCount + 1);
    if (r.maxAgeSeconds !== null && opts.ageToo !== false) {
      upTo = Math.max(upTo, await this.deps.messages.lastIdBefore(a.id, a.userId, this.clock() - r.maxAgeSeconds * 1000));
    }
    // The application may have been deleted meanwhile: its own purge covers everything then.
    if (upTo > 0 && this.deps.applications.get(a.id)) {
      const raised = await this.deps.messages.deleteApplicationUpTo(a.id, a.userId, upTo, this.deps.leader?.fence());
      if (raised) this.deps.log.debug({ appId: a.id, upTo }, 'retention deleted messages');
    }
  }

  /** Stops the timers; a check in flight finishes. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.unfollow?.();
    clearTimeout(this.countTimer);
    clearInterval(this.ageTimer);
    await this.running;
  }
}
