import { DisplayGet, ErrorCodes, InstanceDisable, InstanceEnable, WebhookRequest, type Location, type WebhookResponse } from '@flow/protocol';
import type { PluginLeases } from '../cluster/plugin-leases.js';
import { badRequest, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { PluginConfExternal, PluginProcessInfo } from '../model/plugin.js';
import type { UserRecord } from '../model/user.js';
import { webhookBasePath } from '../model/webhook-path.js';
import { isPluginCallError, type CancelSignal } from '../plugins/connection.js';
import type { DiscoveredPlugin } from '../plugins/discovery.js';
import { HostCalls } from '../plugins/host-calls.js';
import { PluginHost } from '../plugins/host.js';
import type { MessageSink } from '../plugins/ports.js';
import type { PluginSettings } from '../plugins/settings.js';
import { PluginStorage } from '../plugins/storage.js';
import type { PluginConfStore } from '../store/plugin-conf.js';
import type { ApplicationService } from './application.js';
import { PluginConfigs } from './plugin-config.js';
import { PluginEvents } from './plugin-events.js';
import { PluginGate, type LiveInstance, type PluginAccess } from './plugin-gate.js';
import { pool } from '../lib/pool.js';
import { PluginInstances } from './plugin-instances.js';
import { PluginPlacement } from './plugin-placement.js';
import { processInfo, toExternalPluginConf } from './plugin-views.js';

export interface PluginServiceDeps {
  confs: PluginConfStore;
  users: { list(): UserRecord[]; get(id: number): UserRecord | undefined };
  applications: Pick<ApplicationService, 'get' | 'list' | 'createInternal' | 'setInternal'>;
  messages: MessageSink;
  bus: EventBus;
  log: Logger;
  settings: PluginSettings;
  /** Who may use which plugin (services/plugin-permission.ts); everyone when absent. */
  access?: PluginAccess;
  /** With several replicas (PostgreSQL): the instance leases and the secret to relay calls to their owners. */
  cluster?: { leases: PluginLeases; secret: string };
}

/** A webhook request as the route read it. */
export interface WebhookInput {
  method: string;
  /** Path below the instance's base path, starting with "/". */
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress?: string;
  /** Fires when the client went away: the plugin call is cancelled. */
  signal?: CancelSignal;
}

/**
 * What routes and the rest of the server call for plugins: the REST operations on a user's
 * instances, the webhook relay, the admin view, and start/stop. The plugin host (plugins/)
 * runs the processes; PluginInstances brings instances up on each new session; PluginEvents
 * follows users and messages; PluginGate holds the checks every endpoint passes (each once);
 * PluginConfigs the configurer endpoints.
 *
 * No lock is ever held across users or plugins: operations on one instance (user × plugin)
 * are serialised, so "enable twice" cannot race, while a hanging plugin delays only the
 * calls to that instance, each bounded by its deadline (Gotify holds one lock for all plugins).
 */
export class PluginService {
  readonly host: PluginHost;
  private readonly instances: PluginInstances;
  private readonly events: PluginEvents;
  private readonly gate: PluginGate;
  private readonly configs: PluginConfigs;
  private readonly placement: PluginPlacement;

  constructor(private readonly deps: PluginServiceDeps) {
    const log = deps.log.child({ component: 'plugins' });
    const configMaxBytes = deps.settings.configMaxBytes ?? 64 * 1024;
    const storage = new PluginStorage(deps.confs, {
      quotaBytes: deps.settings.storageQuotaBytes,
      maxKeys: deps.settings.storageMaxKeys ?? 10_000,
      configBytes: (confId) => Buffer.byteLength(deps.confs.get(confId)?.config ?? '', 'utf8'),
    });
    const ownership = deps.cluster?.leases;
    const calls = new HostCalls({ confs: deps.confs, storage, messages: deps.messages, ownership });
    this.instances = new PluginInstances({ confs: deps.confs, users: deps.users, applications: deps.applications, log, startConcurrency: deps.settings.startConcurrency, configMaxBytes, ownership });
    this.host = new PluginHost({
      dir: deps.settings.dir,
      bundledDir: deps.settings.bundledDir,
      dataDir: deps.settings.dataDir,
      log: deps.log,
      settings: deps.settings,
      hooks: {
        bringUp: (session) => this.instances.bringUp(session),
        hostRequest: (session, method, params) => calls.request(session, method, params),
        hostNotification: (session, method, params) => calls.notification(session, method, params),
        removed: (sup) => this.events.pluginRemoved(sup),
      },
    });
    this.events = new PluginEvents({ ...deps, log, host: this.host, instances: this.instances, storage });
    this.gate = new PluginGate(deps.confs, this.host, deps.access);
    this.placement = new PluginPlacement({ leases: ownership, host: this.host, confs: deps.confs, users: deps.users, instances: this.instances, log });
    this.configs = new PluginConfigs({ confs: deps.confs, gate: this.gate, instances: this.instances, storage, configMaxBytes });
  }

  /**
   * Starts every plugin and creates and configures the instances of every user (not yet
   * enabled: that waits for `serverListening`), then fixes the internal flag of plugin
   * applications (internal only while their plugin is present, as in Gotify).
   */
  async start(): Promise<void> {
    await this.host.start();
    await this.events.reconcileInternalApps();
    await this.placement.start();
  }

  /**
   * The HTTP server listens: enable the instances whose users had them enabled, so a plugin
   * may call the server's own API from `enable` (gotify/server#616). Pipelined per plugin.
   */
  async serverListening(): Promise<void> {
    this.instances.listening = true;
    await Promise.all(
      this.host.list().map(async (sup) => {
        const session = sup.session;
        if (!session) return;
        const t0 = performance.now();
        await pool([...session.instances.keys()], this.deps.settings.startConcurrency, async (instanceId) => {
          const conf = this.deps.confs.get(Number(instanceId));
          if (conf?.enabled) await this.instances.withLock(conf.userId, conf.modulePath, () => this.instances.enableAtStart(session, conf));
        });
        const enabled = [...session.instances.values()].filter((i) => i.enabled).length;
        if (enabled > 0) sup.log.info({ enabled, ms: Math.round(performance.now() - t0) }, 'plugin instances enabled');
      }),
    );
  }

  /** The users with an enabled subscriber instance on this server (the replica feed reads their messages from other replicas). */
  get subscribedUsers(): PluginEvents['subscribedUsers'] {
    return this.events.subscribedUsers;
  }

  /** Stops all plugins (bounded, in parallel). Safe to call twice. */
  async stop(): Promise<void> {
    this.events.stop();
    await this.host.stop();
    await this.placement.stop();
  }

  /** How a call is relayed to the replica running its instance (cluster/forward-client.ts); undefined on one server. */
  relayOptions(): { secret: string; timeoutMs: number } | undefined {
    const cluster = this.deps.cluster;
    // The owner's own deadline for the plugin's answer, plus time for the hop.
    return cluster && { secret: cluster.secret, timeoutMs: this.deps.settings.session.timeoutFor(WebhookRequest) + 5_000 };
  }

  /**
   * With replicas: the URL of the replica running the caller's instance `id` when it is not this
   * one (the route relays the call there), undefined to handle it here (see PluginPlacement).
   * Unknown or foreign confs are left to the local checks (their 404s). `pluginOnly`: a call the
   * plugin answers without the instance (config, schema) stays here while the plugin is here.
   */
  async ownerElsewhere(userId: number, id: number, relayed: boolean, pluginOnly = false): Promise<string | undefined> {
    const conf = this.deps.cluster && this.deps.confs.get(id);
    if (!conf || conf.userId !== userId || (pluginOnly && this.host.byModulePath(conf.modulePath))) return undefined;
    return this.placement.ownerElsewhere(conf, relayed);
  }

  /** As ownerElsewhere, for a webhook (by its token). Enabled or not is the owner's to say: it changed it last. */
  async webhookOwnerElsewhere(id: number, token: string, relayed: boolean): Promise<string | undefined> {
    if (!this.deps.cluster) return undefined;
    const conf = this.deps.confs.getByToken(token);
    return conf && conf.id === id ? this.placement.ownerElsewhere(conf, relayed) : undefined;
  }

  /** GET /plugin: the caller's confs whose plugin is present (dangling ones are left out, as Gotify). */
  list(userId: number): PluginConfExternal[] {
    const out: PluginConfExternal[] = [];
    const admin = this.deps.users.get(userId)?.admin ?? false;
    for (const conf of this.deps.confs.listByUser(userId)) {
      const sup = this.host.byModulePath(conf.modulePath);
      if (sup && this.gate.allows(userId, sup)) out.push(toExternalPluginConf(conf, sup, admin));
    }
    return out;
  }

  /** The plugins present, for the permission rules: module path, name and manifest default. */
  permissionSubjects(): { modulePath: string; name: string; defaultPermission?: DiscoveredPlugin['defaultPermission'] }[] {
    const out = [];
    for (const sup of this.host.list()) {
      const modulePath = sup.modulePath;
      if (modulePath === undefined || this.host.byModulePath(modulePath) !== sup) continue;
      out.push({ modulePath, name: sup.info?.name ?? sup.plugin.name, defaultPermission: sup.plugin.defaultPermission });
    }
    return out;
  }

  /** Disables the enabled instances of `modulePath` whose users fail `stillAllowed` (a permission was narrowed): see PluginPlacement. */
  revoke(modulePath: string, stillAllowed: (userId: number) => boolean): Promise<void> {
    return this.placement.revoke(modulePath, stillAllowed);
  }

  /** GET /plugin/:id/configschema (see PluginConfigs). */
  getConfigSchema(userId: number, id: number): Record<string, unknown> {
    return this.configs.schema(userId, id);
  }

  /** GET /plugin/:id/config (see PluginConfigs). */
  getConfig(userId: number, id: number): string {
    return this.configs.get(userId, id);
  }

  /** POST /plugin/:id/config (see PluginConfigs). */
  setConfig(userId: number, id: number, text: string): Promise<void> {
    return this.configs.set(userId, id, text);
  }

  /** POST /plugin/:id/enable: 400 when already enabled; the plugin's refusal → 500 with its text, nothing stored. */
  enable(userId: number, id: number): Promise<void> {
    return this.setEnabled(userId, id, true);
  }

  /** POST /plugin/:id/disable: as enable. */
  disable(userId: number, id: number): Promise<void> {
    return this.setEnabled(userId, id, false);
  }

  /** GET /plugin/:id/display: the plugin's markdown; "" for a plugin that is not a displayer. Works while disabled. */
  async display(userId: number, id: number, location: Omit<Location, 'webhookBasePath'> & { prefix: string }): Promise<string> {
    const { conf, sup } = this.gate.require(userId, id);
    if (!sup.capabilities.has('displayer')) return '';
    const { session, instanceId } = this.gate.liveInstance(sup, conf);
    const loc: Location = { scheme: location.scheme, host: location.host, webhookBasePath: location.prefix + webhookBasePath(conf) };
    try {
      return (await session.call(DisplayGet, { instanceId, location: loc })).markdown;
    } catch (err) {
      throw this.gate.callFailed(sup, err);
    }
  }

  /** A webhook's checks, each once (PluginGate.webhookTarget); the route runs them before it reads the body. */
  webhookTarget(id: number, token: string): LiveInstance {
    return this.gate.webhookTarget(id, token);
  }

  /** Relays a webhook to the instance webhookTarget found (deadline → 504); a session that ended meanwhile refuses the call (503). */
  async webhook(target: LiveInstance, req: WebhookInput): Promise<WebhookResponse> {
    const { sup, session, instanceId } = target;
    const { method, path, query, headers, body, remoteAddress, signal } = req;
    try {
      const params = { instanceId, method, path, query, headers, body: body.toString('base64'), ...(remoteAddress === undefined ? {} : { remoteAddress }) };
      return await session.call(WebhookRequest, params, { signal });
    } catch (err) {
      // The HTTP client sees the status; the administrator needs the plugin's side in the log.
      if (isPluginCallError(err) && (err.code === 'FLOW_ERR_PLUGIN_BAD_RESPONSE' || (err.code === 'FLOW_ERR_PLUGIN_TIMEOUT' && err.data.wireCode === ErrorCodes.Timeout))) {
        sup.log.warn({ instanceId, reason: session.redactor.redact(err.message) }, 'webhook failed');
      }
      // A refusal while the plugin runs (its input backed up) names no reason worth hiding.
      const gone = (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_CLOSED') || !session.connected || sup.status !== 'running';
      throw this.gate.callFailed(sup, err, gone);
    }
  }

  /** The admin view of every plugin in the folder. */
  processes(): PluginProcessInfo[] {
    return this.host.list().map(processInfo);
  }

  /** Admin restart: clears a failed or incompatible state and starts the plugin again. 404 for an unknown name. */
  async restart(name: string): Promise<PluginProcessInfo> {
    const sup = this.host.byName(name);
    if (!sup) throw notFound(`no plugin named ${name} in the plugins folder`);
    await sup.restart();
    return processInfo(sup);
  }

  private setEnabled(userId: number, id: number, enabled: boolean): Promise<void> {
    const { conf, sup } = this.gate.require(userId, id);
    this.gate.failFastWhileStarting(sup, conf);
    return this.instances.withLock(userId, conf.modulePath, async () => {
      const current = this.deps.confs.get(conf.id);
      if (!current) throw notFound('unknown plugin');
      if (current.enabled === enabled) throw badRequest('config is already enabled/disabled');
      const { session, instanceId } = this.gate.liveInstance(sup, current);
      // First enable of a messenger: its internal application appears now (none exists before).
      if (enabled && session.capabilities.has('messenger')) await this.instances.ensureApplication(session, current);
      try {
        await session.call(enabled ? InstanceEnable : InstanceDisable, { instanceId });
      } catch (err) {
        throw this.gate.callFailed(sup, err);
      }
      const state = session.instances.get(instanceId);
      if (state) state.enabled = enabled;
      await this.deps.confs.update(conf.id, { enabled });
    });
  }
}
