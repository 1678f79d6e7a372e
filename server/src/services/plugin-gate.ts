import { notFound, badRequest } from '../errors.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import { isPluginCallError } from '../plugins/connection.js';
import type { DiscoveredPlugin } from '../plugins/discovery.js';
import type { Plugin, PluginHost } from '../plugins/host.js';
import type { PluginSession } from '../plugins/session.js';
import type { PluginConfStore } from '../store/plugin-conf.js';
import { pluginUnavailable } from './plugin-views.js';

/** Who may use which plugin (services/plugin-permission.ts); everyone when absent. */
export interface PluginAccess {
  allows(userId: number, modulePath: string, defaultPermission: DiscoveredPlugin['defaultPermission']): boolean;
}

/** A live instance a call can go to: its plugin, the session it is up on, and its id there. */
export interface LiveInstance {
  sup: Plugin;
  session: PluginSession;
  instanceId: string;
}

/**
 * The checks every plugin endpoint passes, each written once: which conf and plugin a call
 * means (404s in Gotify's order), who may use the plugin, whether it is live (503 through the
 * one builder, `pluginUnavailable`), and how a failed call is reported.
 */
export class PluginGate {
  constructor(
    private readonly confs: PluginConfStore,
    private readonly host: PluginHost,
    private readonly access: PluginAccess | undefined,
  ) {}

  /** A user who may not use a plugin (plugin permissions) does not see it: its endpoints answer 404. */
  allows(userId: number, sup: Plugin): boolean {
    return this.access?.allows(userId, sup.modulePath!, sup.plugin.defaultPermission) ?? true;
  }

  /** Gotify's check order: another user's or a missing conf → 404 "unknown plugin"; plugin absent → 404 "plugin instance not found". */
  require(userId: number, id: number): { conf: PluginConfRecord; sup: Plugin } {
    const conf = this.confs.get(id);
    if (!conf || conf.userId !== userId) throw notFound('unknown plugin');
    const sup = this.host.byModulePath(conf.modulePath);
    if (!sup) throw notFound('plugin instance not found');
    if (!this.allows(userId, sup)) throw notFound('unknown plugin');
    return { conf, sup };
  }

  /**
   * The checks of a webhook, each once, in Gotify's order: unknown token, user deleted, plugin
   * absent, not a webhooker or not allowed → 404; disabled → 400 "plugin is disabled"; not
   * running or the instance not up → 503 (its state only: webhook callers are anonymous). The
   * route runs them before reading the body, so a caller with a wrong token is answered at once
   * and never makes the server hold its body.
   */
  webhookTarget(id: number, token: string): LiveInstance {
    const conf = this.confs.getByToken(token);
    if (!conf || conf.id !== id) throw notFound('page not found');
    const sup = this.host.byModulePath(conf.modulePath);
    if (!sup || !sup.capabilities.has('webhooker') || !this.allows(conf.userId, sup)) throw notFound('page not found');
    if (!conf.enabled) throw badRequest('plugin is disabled');
    const { session, instanceId } = this.liveInstance(sup, conf, { anonymous: true });
    // Enabled in the store but not yet on this process (it is being brought up after a start or crash).
    if (!session.instances.get(instanceId)?.enabled) throw pluginUnavailable(sup, 'starting');
    return { sup, session, instanceId };
  }

  /** The liveness check, in one place: the session when the instance exists on it; else 503 naming the plugin's state. */
  liveInstance(sup: Plugin, conf: PluginConfRecord, opts: { anonymous?: boolean } = {}): LiveInstance {
    const session = sup.session;
    if (!session?.connected) throw pluginUnavailable(sup, 'not-running', opts.anonymous);
    const instanceId = String(conf.id);
    if (!session.instances.has(instanceId)) throw pluginUnavailable(sup, 'starting');
    return { sup, session, instanceId };
  }

  /**
   * While the plugin is not running yet, a call on an instance it has not brought up answers
   * 503 at once: queued on the instance's lock it would wait for a bring-up that may hang until
   * the call deadline (the server listens before slow plugins are up). Once running, calls
   * still queue, so a user's first enable waits for the instance addUser is creating.
   */
  failFastWhileStarting(sup: Plugin, conf: PluginConfRecord): void {
    if (sup.status !== 'running') this.liveInstance(sup, conf);
  }

  /**
   * A failed plugin call keeps its kind (the plugin said no → 500 with its text, as Gotify; no
   * answer → 504; a bad answer → 502); only "gone" is rephrased, by the one 503 builder.
   */
  callFailed(sup: Plugin, err: unknown, anonymous = false): unknown {
    return isPluginCallError(err) && err.status === 503 ? pluginUnavailable(sup, err, anonymous) : err;
  }
}
