import type { Logger } from '../log.js';
import type { InstanceOwnership } from '../plugins/ports.js';
import type { PgStore } from '../store/pg/pg-store.js';
import type { Store } from '../store/store.js';
import type { WriteFence } from '../store/message.js';
import type { Cluster } from './cluster.js';
import { leaseFence } from './lease.js';

/**
 * Plugin instances across replicas (issue 19): each user's instance of each plugin runs on the
 * one replica holding its lease `plugin-instance:<conf id>` in the `leases` table (cluster/lease.ts).
 *
 * Every `PERIOD_MS` one tick:
 * 1. gives up the instances this replica no longer wants (plugin removed or failed here);
 * 2. renews every lease it holds in ONE statement (30,000 instances: one UPDATE, not 30,000);
 *    a lease missing from the answer was lost (expired while this replica was paused or cut off
 *    from the database, then maybe taken): the instance is stopped here at once (`lost`);
 * 3. publishes the module paths of the plugins running here (`replicas.plugin_modules`), so the
 *    others know who can take what;
 * 4. takes free instances (no lease, or an expired one: those first, their owner is gone) of the
 *    plugins running here, in batches of `BATCH`, each only up to this replica's fair share
 *    (instances ÷ live replicas that run the plugin, read again before every batch): a replica
 *    that starts while others run does not grab everything, and a dead replica's instances spread
 *    over the survivors. Taking runs beside the renewals (it waits for plugin calls), so bringing
 *    up thousands of instances never delays a renewal.
 * A replica SIGKILLed stops renewing: its leases expire after `TTL_MS` by the database clock and
 * the others take them within a tick, so an instance moves within TTL + PERIOD (about 6 s).
 *
 * Fencing, in two layers. `holds()` is what host calls check before a plugin's call runs
 * (plugins/host-calls.ts): it trusts a lease only until `TTL_MS - SAFETY_MS` after the moment
 * the statement that last took or renewed it was SENT, measured with this process's monotonic
 * clock: PostgreSQL computed the expiry from its `now()` when it ran that statement, which is
 * later, so the local deadline always falls before the real one whatever the wall clocks say.
 * A replica paused (SIGSTOP, a long GC) and resumed after its lease passed finds its deadline
 * gone before it handles anything its plugin sent meanwhile, and refuses it cheaply. A pause
 * between that check and the commit is caught by the second layer: every write for the instance
 * carries `fence(confId)` (this tenure's token) and checks it in its own transaction
 * (cluster/lease.ts `leaseFence`), so it commits only while the token still holds; a refused
 * write calls `forfeit` and the instance is stopped here at once, as a tick that finds the lease
 * lost does.
 */

/** How often leases are renewed and free instances looked for. */
export const PERIOD_MS = 1_000;
/** A lease not renewed for this long (database clock) is free for another replica. */
export const TTL_MS = 5_000;
/** Margin below the ttl during which this replica stops trusting a lease it has not renewed. */
export const SAFETY_MS = 1_000;
/** Instances taken (and brought up concurrently) per batch. */
export const BATCH = 64;

/** The lease of one plugin instance (its conf id). */
export const instanceLease = (confId: number): string => `plugin-instance:${confId}`;

/** What of cluster/lease.ts `Leases` this needs. */
export interface LeaseTable {
  readonly holder: string;
  acquire(name: string, ttlMs: number): Promise<number | null>;
  renew(held: readonly { name: string; token: number }[], ttlMs: number): Promise<Set<string>>;
  release(name: string, token: number): Promise<boolean>;
  state(name: string): Promise<{ holder: string; token: number; remainingMs: number } | undefined>;
}

/** What of cluster/replica.ts `ReplicaRegistry` this needs. */
export interface ReplicaDirectory {
  get(id: string): Promise<{ advertiseUrl: string | null } | undefined>;
  withPlugin(modulePath: string): Promise<{ id: string }[]>;
  setPluginModules(modulePaths: readonly string[]): Promise<void>;
}

export interface SqlRunner {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** What the plugin service tells the leases, and is told by them. */
export interface PluginLeaseHooks {
  /** Module paths of the plugins running here now: only their instances are taken. */
  runningModules(): string[];
  /** The instance's plugin, if it is present here (undefined: its conf is unknown here). */
  moduleOf(confId: number): string | undefined;
  /** Whether this replica can still run the instance (its plugin present and not given up). */
  wants(confId: number): boolean;
  /** The lease of a free instance was taken: bring it up here. A rejection gives the lease back. */
  adopt(confId: number): Promise<void>;
  /** The lease was lost: stop the instance here now (another replica may run it). */
  lost(confId: number): Promise<void>;
}

/** Where an instance runs, for a call that arrived here. */
export type InstancePlace = { kind: 'here' } | { kind: 'replica'; url: string } | { kind: 'unreachable' } | { kind: 'free' };

interface Held {
  token: number;
  /** The fence of this tenure (its token): the writes done for the instance carry it. */
  fence: WriteFence;
  /** performance.now() past which the lease is not trusted (see the fencing note above). */
  trustedUntil: number;
}

export class PluginLeases implements InstanceOwnership {
  readonly clustered = true;
  private readonly held = new Map<number, Held>();
  private hooks: PluginLeaseHooks | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  /** The taking of free instances in progress: it may bring many up, so renewals never wait for it. */
  private acquiring: Promise<void> | undefined;
  private published = '';
  private stopped = false;

  constructor(
    private readonly deps: { leases: LeaseTable; registry: ReplicaDirectory; db: SqlRunner; log: Logger },
    private readonly timing: { periodMs: number; ttlMs: number; safetyMs: number; batch: number } = { periodMs: PERIOD_MS, ttlMs: TTL_MS, safetyMs: SAFETY_MS, batch: BATCH },
  ) {}

  /**
   * Starts the ticks once the plugins have started. The first round is awaited (`manual`: none,
   * the test drives `tick()`): a server alone on its database brings its instances up before it
   * listens, as with LevelDB.
   */
  async start(hooks: PluginLeaseHooks, manual = false): Promise<void> {
    this.hooks = hooks;
    if (manual) return;
    this.ticking = this.tick().catch((err: unknown) => this.deps.log.error({ err }, 'plugin instance leases: the first round failed; retrying'));
    await this.ticking;
    this.schedule(this.timing.periodMs);
  }

  holds(confId: number): boolean {
    const h = this.held.get(confId);
    return h !== undefined && performance.now() < h.trustedUntil;
  }

  /** The instances held here, by conf id. */
  heldIds(): number[] {
    return [...this.held.keys()];
  }

  async take(confId: number): Promise<boolean> {
    if (this.stopped) return false;
    const sentAt = performance.now();
    const token = await this.deps.leases.acquire(instanceLease(confId), this.timing.ttlMs);
    if (token === null) {
      this.held.delete(confId);
      return false;
    }
    const cur = this.held.get(confId);
    const fence = cur?.token === token ? cur.fence : leaseFence(instanceLease(confId), token);
    this.held.set(confId, { token, fence, trustedUntil: sentAt + this.timing.ttlMs - this.timing.safetyMs });
    return true;
  }

  fence(confId: number): WriteFence | undefined {
    return this.held.get(confId)?.fence;
  }

  /** A write under `fence` was refused: that tenure is over (a newer one taken since is kept); the instance stops here. */
  forfeit(confId: number, fence: WriteFence): void {
    if (this.held.get(confId)?.fence !== fence) return;
    this.held.delete(confId);
    this.deps.log.warn({ instanceId: confId }, 'lost the lease of a plugin instance (a write for it was refused by the database); stopping it here');
    void this.hooks?.lost(confId).catch((err: unknown) => this.deps.log.warn({ err, instanceId: confId }, 'stopping a plugin instance whose lease was lost failed'));
  }

  async shareLeft(modulePath: string, instances: number): Promise<number> {
    const others = (await this.deps.registry.withPlugin(modulePath)).filter((r) => r.id !== this.deps.leases.holder).length;
    const mine = this.hooks ? [...this.held.keys()].filter((id) => this.hooks!.moduleOf(id) === modulePath).length : 0;
    return Math.max(0, Math.ceil(instances / (others + 1)) - mine);
  }

  async release(confId: number): Promise<void> {
    const h = this.held.get(confId);
    if (!h) return;
    this.held.delete(confId);
    await this.deps.leases.release(instanceLease(confId), h.token).catch((err: unknown) => this.deps.log.warn({ err, instanceId: confId }, 'giving up a plugin instance lease failed; it expires by itself'));
  }

  /** Where the instance runs: here, on a live replica (its URL), on a replica that is gone but whose lease has not expired yet, or nowhere. */
  async locate(confId: number): Promise<InstancePlace> {
    if (this.holds(confId)) return { kind: 'here' };
    const state = await this.deps.leases.state(instanceLease(confId));
    if (!state || state.remainingMs <= 0) return { kind: 'free' };
    if (state.holder === this.deps.leases.holder) return { kind: 'free' };
    const replica = await this.deps.registry.get(state.holder);
    return replica?.advertiseUrl ? { kind: 'replica', url: replica.advertiseUrl } : { kind: 'unreachable' };
  }

  /** Stops the ticks and gives every lease back (after the plugins stopped: the others take over at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.acquiring;
    await Promise.all([...this.held.keys()].map((id) => this.release(id)));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const failed = (err: unknown) => this.deps.log.error({ err }, 'plugin instance leases: a round failed; retrying');
      this.ticking = this.renewRound().catch(failed);
      // Taking runs beside the renewals, one round at a time: bringing up thousands of instances
      // (each a few plugin calls) must never delay the renewal of the leases already held.
      this.acquiring ??= this.ticking.then(() => this.acquireRound()).catch(failed).finally(() => (this.acquiring = undefined));
      void this.ticking.finally(() => this.schedule(this.timing.periodMs));
    }, ms);
    this.timer.unref();
  }

  /** One whole round: give up, renew, publish, take (see the class comment). */
  async tick(): Promise<void> {
    await this.renewRound();
    await this.acquireRound();
  }

  private async renewRound(): Promise<void> {
    const hooks = this.hooks;
    if (!hooks || this.stopped) return;
    for (const id of [...this.held.keys()]) if (!hooks.wants(id)) await this.release(id);
    await this.renew(hooks);
    const modules = hooks.runningModules().sort();
    if (modules.join('\n') !== this.published) {
      await this.deps.registry.setPluginModules(modules);
      this.published = modules.join('\n');
    }
  }

  private async acquireRound(): Promise<void> {
    const hooks = this.hooks;
    if (!hooks) return;
    for (const modulePath of hooks.runningModules().sort()) {
      // Batch after batch while this replica is under its share and instances are free.
      while (!this.stopped && (await this.takeFree(hooks, modulePath)) > 0);
    }
  }

  private async renew(hooks: PluginLeaseHooks): Promise<void> {
    const batch = [...this.held].map(([confId, h]) => ({ confId, name: instanceLease(confId), token: h.token }));
    if (batch.length === 0) return;
    const sentAt = performance.now();
    const kept = await this.deps.leases.renew(batch, this.timing.ttlMs);
    for (const { confId, name, token } of batch) {
      const h = this.held.get(confId);
      if (h?.token !== token) continue; // released or taken anew meanwhile
      if (kept.has(name)) {
        h.trustedUntil = sentAt + this.timing.ttlMs - this.timing.safetyMs;
        continue;
      }
      this.held.delete(confId);
      this.deps.log.warn({ instanceId: confId }, 'lost the lease of a plugin instance (this replica was paused or cut off from the database); stopping it here');
      await hooks.lost(confId).catch((err: unknown) => this.deps.log.warn({ err, instanceId: confId }, 'stopping a plugin instance whose lease was lost failed'));
    }
  }

  /** Takes and brings up one batch of free instances of the plugin; returns how many are up. */
  private async takeFree(hooks: PluginLeaseHooks, modulePath: string): Promise<number> {
    const replicas = Math.max(1, (await this.deps.registry.withPlugin(modulePath)).length);
    const { rows: counts } = await this.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM plugin_confs WHERE module_path = $1', [modulePath]);
    const mine = [...this.held.keys()].filter((id) => hooks.moduleOf(id) === modulePath).length;
    const room = Math.min(this.timing.batch, Math.ceil((counts[0]?.n ?? 0) / replicas) - mine);
    if (room <= 0) return 0;
    // Expired leases first (their replica is gone: those users are waiting), then never-held ones.
    const { rows } = await this.deps.db.query<{ id: string }>(
      `SELECT c.id FROM plugin_confs c LEFT JOIN leases l ON l.name = 'plugin-instance:' || c.id
       WHERE c.module_path = $1 AND (l.name IS NULL OR l.expires_at <= now())
       ORDER BY (l.name IS NULL), c.id LIMIT $2`,
      [modulePath, room],
    );
    const taken: number[] = [];
    for (const { id } of rows) {
      const confId = Number(id);
      if (hooks.wants(confId) && (await this.take(confId))) taken.push(confId);
    }
    const up = await Promise.all(
      taken.map((confId) =>
        hooks.adopt(confId).then(
          () => true,
          async (err: unknown) => {
            this.deps.log.warn({ err, instanceId: confId }, 'bringing up a plugin instance taken over from another replica failed; giving it back');
            await this.release(confId);
            return false;
          },
        ),
      ),
    );
    // Only instances brought up count: a batch of failures ends the round instead of looping on them.
    return up.filter(Boolean).length;
  }
}

/**
 * The plugin host's part of the cluster: instance leases and the relay secret with replicas
 * (PostgreSQL), undefined when this server is alone (LevelDB: it owns every instance).
 */
export function pluginCluster(cluster: Cluster, store: Store, log: Logger): { leases: PluginLeases; secret: string } | undefined {
  if (!cluster.leases || !cluster.registry || store.backend !== 'postgres') return undefined;
  const leases = new PluginLeases({ leases: cluster.leases, registry: cluster.registry, db: (store as PgStore).db, log: log.child({ component: 'plugins', replica: cluster.replica.id }) });
  return { leases, secret: cluster.secret };
}
