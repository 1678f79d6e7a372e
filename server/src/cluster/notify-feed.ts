import { FlowError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { MessageRecord } from '../model/message.js';
import { replicaApplicationName } from '../store/pg/pg-db.js';
import type { PgStore } from '../store/pg/pg-store.js';
import { MessageAnnouncer } from './announcer.js';
import { CatchUp } from './catch-up.js';
import { IdWatermark } from './id-watermark.js';
import { CHANNEL, parseChange, type Change } from './notify-payload.js';
import { NotifyListener } from './notify-listener.js';

/**
 * How often the feed looks for messages no notification will ever announce (their replica died
 * between the commit and the announcement): those committed before the previous sweep and still
 * unseen. One `max(id)` per sweep; a catch-up read only when something below it is unseen.
 */
const SWEEP_MS = 2_000;
/** After a failed read, the feed resynchronises (caches reloaded, messages caught up) after this. */
const RESYNC_AFTER_ERROR_MS = 1_000;

/**
 * Who on this replica takes a user's messages from other replicas: its open /stream connections
 * (the stream hub), and whatever else registers with `ReplicaFeed.addSubscribers` (e.g. plugin
 * instances this replica owns).
 */
export interface LocalSubscribers {
  has(userId: number): boolean;
  userIds(): number[];
}

export interface ReplicaFeedOptions {
  store: PgStore;
  bus: EventBus;
  log: Logger;
  /** This replica's id (its sessions' application_name names it as the origin of its changes). */
  replicaId: string;
  /** The first subscribers (the stream hub); more with `addSubscribers`. */
  subscribers: LocalSubscribers;
  /** Monotonic milliseconds (tests inject one). */
  now?: () => number;
}

type Work = Change | { kind: 'resync'; reason: 'start' | 'reconnect' | 'error' } | { kind: 'sweep' };

/**
 * What other replicas on the same PostgreSQL database changed, applied here (PostgreSQL only;
 * with LevelDB a server is alone and this is never built). One LISTEN session
 * (`NotifyListener`) receives the ids the triggers of store/pg/migrations.ts announce, in
 * commit order; one worker applies them in that order:
 * - a user, client, application or plugin conf changed: that row is read again into the cache
 *   (`refresh`); a user or client gone (or a client's token replaced) is announced on the bus
 *   as a local delete is, so this replica's streams of it close;
 * - messages: a burst of ids is read in one query, only for users with a local subscriber,
 *   and emitted as `messageFromReplica` in id order (the stream hub delivers it; plugin
 *   instances are the owning replica's concern, through the same event);
 * - after a reconnect (notifications lost) every cache is reloaded and the messages of local
 *   subscribers are read from the watermark (`IdWatermark`), skipping ids already delivered;
 * - every SWEEP_MS, messages committed before the previous sweep and still unseen are read the
 *   same way: a replica killed between a commit and its announcement never announces them.
 * Changes this replica made itself are skipped: its own services already applied them.
 */
export class ReplicaFeed {
  private readonly listener: NotifyListener;
  private readonly origin: string;
  private readonly watermark: IdWatermark;
  private readonly now: () => number;
  private readonly queue: Work[] = [];
  private readonly catchUps: CatchUp;
  /** The highest message id committed at the previous sweep. */
  private settledUpTo = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private working: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;
  private lostLogged = false;
  private readonly subscribers = new Set<LocalSubscribers>();
  /** This replica's new messages, told to the others. */
  private readonly announcer: MessageAnnouncer;
  /** What the feed did (diagnostics, tests): message reads, messages emitted, of them by a catch-up, resyncs. */
  readonly stats = { reads: 0, delivered: 0, caughtUp: 0, resyncs: 0 };

  constructor(private readonly opts: ReplicaFeedOptions) {
    this.origin = replicaApplicationName(opts.replicaId);
    this.announcer = new MessageAnnouncer(opts.store.db, this.origin, opts.log);
    this.now = opts.now ?? (() => performance.now());
    this.subscribers.add(opts.subscribers);
    this.watermark = new IdWatermark(this.now);
    const users = () => [...this.subscribers].flatMap((s) => s.userIds());
    this.catchUps = new CatchUp({ messages: opts.store.messages, watermark: this.watermark, users, emit: (m) => this.emit(m), now: this.now, log: opts.log });
    // This replica's own messages reach its streams through the fan-out; the watermark counts
    // them seen, and the other replicas are told (after the commit, in bursts).
    this.unsubscribe = opts.bus.on('messageCreated', ({ message }) => {
      this.watermark.see(message.id);
      if (!this.closed) this.announcer.announce(message);
    });
    this.listener = new NotifyListener({
      config: opts.store.db.clientConfig,
      channel: CHANNEL,
      onPayload: (payload) => {
        const change = parseChange(payload);
        if (!change) opts.log.warn({ payload: payload.slice(0, 100) }, 'unknown change notification ignored');
        else if (change.kind === 'entity') this.push(change);
        // This replica's own messages come back too: seen already, never queued.
        else if (change.origin !== this.origin) for (const m of change.messages) this.push({ kind: 'message', ...m, origin: change.origin });
      },
      onListening: (reconnected) => {
        this.lostLogged = false;
        if (reconnected) opts.log.warn('the LISTEN session to PostgreSQL is back: reloading the caches and catching up on messages');
        this.push({ kind: 'resync', reason: reconnected ? 'reconnect' : 'start' });
      },
      onLost: (err) => {
        // Once per loss, not at every reconnect attempt.
        if (this.lostLogged) return;
        this.lostLogged = true;
        opts.log.error({ err }, 'the LISTEN session to PostgreSQL was lost: changes of other replicas are not seen until it is back');
      },
    });
  }

  /**
   * Listens (a failure is logged and retried in the background). The watermark starts at the
   * last message committed now, so if LISTEN only comes up later, the streams opened meanwhile
   * are caught up from here.
   */
  async start(): Promise<void> {
    this.settledUpTo = await this.opts.store.messages.lastCommittedId();
    this.watermark.reset(this.settledUpTo);
    await this.listener.start();
    this.sweepTimer = setInterval(() => {
      if (this.listener.listening && !this.queue.some((w) => w.kind === 'sweep')) this.push({ kind: 'sweep' });
    }, SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Adds who wants users' messages from other replicas here; returns the removal. */
  addSubscribers(s: LocalSubscribers): () => void {
    this.subscribers.add(s);
    return () => void this.subscribers.delete(s);
  }

  private wants(userId: number): boolean {
    for (const s of this.subscribers) if (s.has(userId)) return true;
    return false;
  }

  /** True while changes of other replicas are being received. */
  get listening(): boolean {
    return this.listener.listening;
  }

  /** Resolves once everything received so far has been applied (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.working) await this.working;
  }

  private push(work: Work): void {
    if (this.closed) return;
    this.queue.push(work);
    this.working ??= this.work().finally(() => (this.working = undefined));
  }

  private async work(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const next = this.queue.shift()!;
      try {
        if (next.kind === 'message') {
          const burst = [next];
          while (this.queue[0]?.kind === 'message') burst.push(this.queue.shift() as typeof next);
          await this.deliver(burst);
        } else if (next.kind === 'entity') {
          if (next.origin !== this.origin) await this.refresh(next);
        } else if (next.kind === 'sweep') {
          await this.sweep();
        } else {
          await this.resync(next.reason);
        }
      } catch (err) {
        if (this.closed) return;
        // An unreachable database is reported once by the store (store/pg/pg-db.ts); anything else here.
        if (!(err instanceof FlowError && err.code === 'FLOW_ERR_STORE_UNAVAILABLE')) {
          this.opts.log.error({ err }, 'applying changes of other replicas failed: resynchronising');
        }
        this.scheduleResync();
      }
    }
  }

  private scheduleResync(): void {
    if (this.resyncTimer || this.closed) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.push({ kind: 'resync', reason: 'error' });
    }, RESYNC_AFTER_ERROR_MS);
    this.resyncTimer.unref();
  }

  /** Messages: one read for the burst's ids that a local subscriber wants; each id counts as seen once handled. */
  private async deliver(burst: Extract<Change, { kind: 'message' }>[]): Promise<void> {
    const wanted = burst.filter((c) => c.origin !== this.origin && !this.catchUps.has(c.id) && this.wants(c.userId));
    if (wanted.length > 0) {
      this.stats.reads++;
      this.opts.log.debug({ count: wanted.length, users: [...new Set(wanted.map((c) => c.userId))] }, 'reading messages posted on other replicas');
      for (const m of await this.opts.store.messages.getMany(wanted.map((c) => c.id))) this.emit(m);
    }
    // Only now: a failed read leaves the ids unseen, so the resync that follows reads them.
    for (const c of burst) this.watermark.see(c.id);
  }

  private emit(message: MessageRecord): void {
    const application = this.opts.store.applications.get(message.appId);
    // No application: it was deleted meanwhile, and its messages with it.
    if (!application) return;
    this.stats.delivered++;
    this.opts.bus.emitSafe('messageFromReplica', { message, application });
  }

  private async refresh(change: Extract<Change, { kind: 'entity' }>): Promise<void> {
    const { store, bus } = this.opts;
    switch (change.entity) {
      case 'user': {
        const { before, after } = await store.users.refresh(change.id);
        if (before && !after) bus.emitSafe('userDeleted', { user: before });
        // Created there: the plugins here give it their instances, as the plugins there do.
        if (!before && after) bus.emitSafe('userFromReplica', { user: after });
        return;
      }
      case 'client': {
        const { before, after } = await store.clients.refresh(change.id);
        // As ClientService does locally: a replaced token is a deleted one for its streams.
        if (before && (!after || after.token !== before.token)) bus.emitSafe('clientDeleted', { client: before });
        return;
      }
      case 'application':
        await store.applications.refresh(change.id);
        return;
      case 'pluginConf':
        await store.pluginConfs.refresh(change.id);
        return;
      case 'pluginPermissions':
        await store.pluginPermissions.reload();
        bus.emitSafe('pluginPermissionsChanged', {});
        return;
    }
  }

  /** Notifications may have been missed: every cache is read again, then the messages of local subscribers. */
  private async resync(reason: 'start' | 'reconnect' | 'error'): Promise<void> {
    const { store, bus } = this.opts;
    if (reason === 'start') {
      // Listening from here; streams opened before (a first LISTEN that failed and was retried) are caught up.
      await this.catchUp();
      return;
    }
    this.stats.resyncs++;
    const goneUsers = await store.users.reload();
    const goneClients = await store.clients.reload();
    await store.applications.reload();
    await store.pluginConfs.reload();
    await store.pluginPermissions.reload();
    bus.emitSafe('pluginPermissionsChanged', {});
    for (const user of goneUsers) bus.emitSafe('userDeleted', { user });
    for (const client of goneClients) bus.emitSafe('clientDeleted', { client });
    await this.catchUp();
  }

  private async catchUp(): Promise<void> {
    const { reads, delivered } = await this.catchUps.run();
    this.stats.reads += reads;
    this.stats.caughtUp += delivered;
  }

  /** See SWEEP_MS. Once read up to the bound, every id below it counts as seen: the next sweeps read nothing. */
  private async sweep(): Promise<void> {
    const upTo = this.settledUpTo;
    this.settledUpTo = await this.opts.store.messages.lastCommittedId();
    if (upTo <= this.watermark.mark) return;
    const { reads, delivered, complete } = await this.catchUps.run({ upTo, quiet: true });
    this.stats.reads += reads;
    this.stats.caughtUp += delivered;
    if (complete) this.watermark.passTo(upTo);
  }

  /** Stops listening; what is being applied finishes first. */
  async close(): Promise<void> {
    // Announced before closing: the app drains the fan-out first, so these are the last ones.
    await this.announcer.flushed();
    this.closed = true;
    clearTimeout(this.resyncTimer);
    clearInterval(this.sweepTimer);
    this.unsubscribe();
    await this.listener.close();
    await this.settled();
  }
}
