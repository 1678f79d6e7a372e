import { InstanceDisable } from '@flow/protocol';
import type { PluginLeases } from '../cluster/plugin-leases.js';
import type { Logger } from '../log.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { UserRecord } from '../model/user.js';
import type { PluginHost } from '../plugins/host.js';
import type { PluginConfStore } from '../store/plugin-conf.js';
import type { PluginInstances } from './plugin-instances.js';
import { pluginUnavailable } from './plugin-views.js';

const GONE = new Set(['failed', 'incompatible', 'stopped']);

/**
 * Which replica runs which plugin instance (issue 19), for the plugin service: it answers the
 * instance leases' questions (cluster/plugin-leases.ts: which plugins run here, bring up an
 * instance whose lease was taken, stop one whose lease was lost) and tells a REST or webhook
 * call for an instance where to go: here, or the URL of the replica that runs it. Without
 * leases (LevelDB, one server) everything is here and nothing is asked of the database.
 */
export class PluginPlacement {
  constructor(
    private readonly deps: {
      leases: PluginLeases | undefined;
      host: PluginHost;
      confs: PluginConfStore;
      users: { get(id: number): UserRecord | undefined };
      instances: PluginInstances;
      log: Logger;
    },
  ) {}

  /** Starts taking and renewing instance leases (after the plugins started); resolves after the first round. */
  async start(): Promise<void> {
    await this.deps.leases?.start({
      runningModules: () => this.runningModules(),
      moduleOf: (confId) => this.deps.confs.get(confId)?.modulePath,
      wants: (confId) => this.wants(confId),
      adopt: (confId) => this.adopt(confId),
      lost: (confId) => this.lost(confId),
    });
  }

  /** Gives every lease back; the plugins are stopped by then. */
  async stop(): Promise<void> {
    await this.deps.leases?.stop();
  }

  /**
   * Where a call for `conf` must run: undefined → here; a URL → relay it to that replica. An
   * instance nobody holds is taken and brought up here when its plugin runs here (the caller
   * only waits for that). A call another replica relayed here (`relayed`) is never sent on:
   * if the instance moved meanwhile it is 503, and the caller's retry finds the new owner. An
   * instance no live replica runs whose plugin is not here is 503 too (not the 404 of an id
   * that exists nowhere): a replica that has the plugin takes it within seconds.
   */
  async ownerElsewhere(conf: PluginConfRecord, relayed: boolean): Promise<string | undefined> {
    const leases = this.deps.leases;
    if (!leases) return undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const place = await leases.locate(conf.id);
      if (place.kind === 'here') return undefined;
      if (place.kind === 'replica' && !relayed) return place.url;
      if (place.kind !== 'free') break;
      // Free: a replica without the plugin never takes it. With the plugin here but unable to
      // run it (failed, stopped), or maybe here but still starting (a module path not known yet:
      // Gotify's 404 then), the local checks answer.
      if (!this.wants(conf.id)) {
        if (this.deps.host.byModulePath(conf.modulePath) || this.deps.host.list().some((sup) => sup.modulePath === undefined && !GONE.has(sup.status))) return undefined;
        throw pluginUnavailable(undefined, 'no-replica');
      }
      if (await leases.take(conf.id)) {
        await this.adopt(conf.id).catch(async (err: unknown) => {
          await leases.release(conf.id);
          throw err;
        });
        return undefined;
      }
      // Another replica took it between the two statements: look again.
    }
    throw pluginUnavailable(undefined, 'owner-gone');
  }

  /**
   * Disables the enabled instances of `modulePath` whose users fail `stillAllowed` (a permission
   * was narrowed) that run here or nowhere. One another live replica runs is left to it: it
   * hears of the new rule (cluster/notify-feed.ts) and does the same. The plugin is told first;
   * the conf is marked disabled even if it refuses: only its user could enable it again, and
   * that user can no longer reach it.
   */
  async revoke(modulePath: string, stillAllowed: (userId: number) => boolean): Promise<void> {
    const { confs, host, instances, leases, log } = this.deps;
    for (const conf of confs.list()) {
      if (conf.modulePath !== modulePath || !conf.enabled || stillAllowed(conf.userId)) continue;
      if (leases && !leases.holds(conf.id) && (await leases.locate(conf.id)).kind === 'replica') continue;
      await instances.withLock(conf.userId, modulePath, async () => {
        const session = host.byModulePath(modulePath)?.session;
        const instanceId = String(conf.id);
        const state = session?.instances.get(instanceId);
        if (session && state?.enabled) {
          await session.call(InstanceDisable, { instanceId }).then(
            () => (state.enabled = false),
            (err: unknown) => log.warn({ err, instanceId: conf.id }, 'disabling an instance whose user lost access to the plugin failed; marking it disabled'),
          );
        }
        if (confs.get(conf.id)?.enabled) await confs.update(conf.id, { enabled: false });
      });
    }
  }

  private runningModules(): string[] {
    const out: string[] = [];
    for (const sup of this.deps.host.list()) {
      const mp = sup.modulePath;
      if (mp !== undefined && sup.status === 'running' && this.deps.host.byModulePath(mp) === sup) out.push(mp);
    }
    return out;
  }

  /** The instance can run here: its conf and user are known and its plugin is present and not given up. */
  private wants(confId: number): boolean {
    const conf = this.deps.confs.get(confId);
    if (!conf || !this.deps.users.get(conf.userId)) return false;
    const sup = this.deps.host.byModulePath(conf.modulePath);
    return sup !== undefined && !GONE.has(sup.status);
  }

  /** Brings the instance whose lease this replica just took up on its plugin's process. */
  private async adopt(confId: number): Promise<void> {
    const conf = this.deps.confs.get(confId);
    const user = conf && this.deps.users.get(conf.userId);
    const session = conf && this.deps.host.byModulePath(conf.modulePath)?.session;
    if (!conf || !user || !session?.connected) throw new Error(`plugin instance ${confId} cannot be brought up here now`);
    await this.deps.instances.adopt(session, user);
  }

  /** Stops the instance whose lease was lost, on this replica's process (another replica may run it now). */
  private async lost(confId: number): Promise<void> {
    const conf = this.deps.confs.get(confId);
    const session = conf && this.deps.host.byModulePath(conf.modulePath)?.session;
    if (conf && session) await this.deps.instances.drop(session, conf);
  }
}
