import { ConfigValidateAndSet, DisplayGet, ErrorCodes, InstanceDisable, InstanceEnable, WebhookRequest, type Location, type WebhookResponse } from '@flow/protocol';
import { FlowError, badRequest, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { PluginConfExternal, PluginProcessInfo } from '../model/plugin.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { UserRecord } from '../model/user.js';
import { webhookBasePath } from '../model/webhook-path.js';
import { checkConfig, validateAndSetParams } from '../plugins/config-schema.js';
import { isPluginCallError, type CancelSignal } from '../plugins/connection.js';
import type { DiscoveredPlugin } from '../plugins/discovery.js';
import { HostCalls } from '../plugins/host-calls.js';
import { PluginHost, type Plugin } from '../plugins/host.js';
import type { MessageSink } from '../plugins/ports.js';
import type { PluginSession } from '../plugins/session.js';
import type { PluginSettings } from '../plugins/settings.js';
import { PluginStorage } from '../plugins/storage.js';
import type { PluginConfStore } from '../store/plugin-conf.js';
import type { ApplicationService } from './application.js';
import { PluginEvents } from './plugin-events.js';
import { PluginInstances, pool } from './plugin-instances.js';
import { pluginUnavailable, processInfo, toExternalPluginConf } from './plugin-views.js';

export interface PluginServiceDeps {
  confs: PluginConfStore;
  users: { list(): UserRecord[]; get(id: number): UserRecord | undefined };
  applications: Pick<ApplicationService, 'get' | 'list' | 'createInternal' | 'setInternal'>;
  messages: MessageSink;
  bus: EventBus;
  log: Logger;
  settings: PluginSettings;
  /** Who may use which plugin (services/plugin-permission.ts); everyone when absent. */
  access?: { allows(userId: number, modulePath: string, defaultPermission: DiscoveredPlugin['defaultPermission']): boolean };
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
 * follows users and messages.
 *
 * No lock is ever held across users or plugins: operations on one instance (user × plugin)
 * are serialised, so "enable twice" cannot race, while a hanging plugin delays only the
 * calls to that instance, each bounded by its deadline (Gotify §1.10 holds one global lock).
 */
export class PluginService {
  readonly host: PluginHost;
  private readonly instances: PluginInstances;
  private readonly events: PluginEvents;
  private readonly storage: PluginStorage;

  constructor(private readonly deps: PluginServiceDeps) {
    const log = deps.log.child({ component: 'plugins' });
    const storage = new PluginStorage(deps.confs, {
      quotaBytes: deps.settings.storageQuotaBytes,
      maxKeys: deps.settings.storageMaxKeys ?? 10_000,
      configBytes: (confId) => Buffer.byteLength(deps.confs.get(confId)?.config ?? '', 'utf8'),
    });
    this.storage = storage;
    const calls = new HostCalls({ confs: deps.confs, storage, messages: deps.messages });
    this.instances = new PluginInstances({ confs: deps.confs, users: deps.users, applications: deps.applications, log, startConcurrency: deps.settings.startConcurrency, configMaxBytes: deps.settings.configMaxBytes ?? 64 * 1024 });
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
  }

  /**
   * Starts every plugin and creates and configures the instances of every user (not yet
   * enabled: that waits for `serverListening`), then fixes the internal flag of plugin
   * applications (internal only while their plugin is present, Gotify §1.7).
   */
  async start(): Promise<void> {
    await this.host.start();
    await this.events.reconcileInternalApps();
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

  /** Stops all plugins (bounded, in parallel). Safe to call twice. */
  async stop(): Promise<void> {
    this.events.stop();
    await this.host.stop();
  }

  /** GET /plugin: the caller's confs whose plugin is present (dangling ones are left out, as Gotify). */
  list(userId: number): PluginConfExternal[] {
    const out: PluginConfExternal[] = [];
    const admin = this.deps.users.get(userId)?.admin ?? false;
    for (const conf of this.deps.confs.listByUser(userId)) {
      const sup = this.host.byModulePath(conf.modulePath);
      if (sup && this.allows(userId, sup)) out.push(toExternalPluginConf(conf, sup, admin));
    }
    return out;
  }

  /** A user who may not use a plugin (plugin permissions) does not see it: its endpoints answer 404. */
  private allows(userId: number, sup: Plugin): boolean {
    return this.deps.access?.allows(userId, sup.modulePath!, sup.plugin.defaultPermission) ?? true;
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

  /** Disables the enabled instances of `modulePath` whose users fail `stillAllowed` (a permission was narrowed). */
  async revoke(modulePath: string, stillAllowed: (userId: number) => boolean): Promise<void> {
    for (const conf of this.deps.confs.list()) {
      if (conf.modulePath !== modulePath || !conf.enabled || stillAllowed(conf.userId)) continue;
      await this.disable(conf.userId, conf.id).catch((err: unknown) => {
        // Disabled in the store anyway: the instance is re-enabled only by the user, who can no longer reach it.
        this.deps.log.warn({ err, instanceId: conf.id }, 'disabling an instance whose user lost access to the plugin failed; marking it disabled');
        return this.deps.confs.update(conf.id, { enabled: false });
      });
    }
  }

  /** GET /plugin/:id/configschema: the plugin's JSON Schema of its config (1.1); 404 when it declares none. */
  getConfigSchema(userId: number, id: number): Record<string, unknown> {
    const { sup } = this.require(userId, id);
    const schema = sup.handshaken?.configSchema;
    if (!schema) throw notFound('the plugin declares no config schema');
    return schema.schema;
  }

  /** GET /plugin/:id/config: the stored YAML text, byte for byte. */
  getConfig(userId: number, id: number): string {
    const { conf, sup } = this.require(userId, id);
    if (!sup.capabilities.has('configurer')) throw badRequest('plugin does not support configurer');
    return conf.config;
  }

  /**
   * POST /plugin/:id/config: the YAML must parse, then the live instance validates and
   * applies it; only then is the raw text stored. Any failure → 400 with the reason, and
   * neither the instance nor the store changes.
   */
  setConfig(userId: number, id: number, text: string): Promise<void> {
    const { conf, sup } = this.require(userId, id);
    if (!sup.capabilities.has('configurer')) throw badRequest('plugin does not support configurer');
    const maxBytes = this.deps.settings.configMaxBytes ?? 64 * 1024;
    // Bounded before anything parses it: the text is stored per user and counted against the quota.
    if (Buffer.byteLength(text, 'utf8') > maxBytes) throw badRequest(`plugin config too large: the limit is ${maxBytes} bytes (plugins.configmaxbytes)`);
    const checked = checkConfig(sup.handshaken?.configSchema, text);
    if (!checked.ok) throw new FlowError('FLOW_ERR_BAD_REQUEST', checked.refusal.message, checked.refusal.issues ? { details: { issues: checked.refusal.issues } } : undefined);
    this.failFastWhileStarting(sup, conf);
    return this.instances.withLock(userId, conf.modulePath, async () => {
      const { session, instanceId } = this.liveInstance(sup, conf);
      if (!(await this.storage.configFits(conf.id, Buffer.byteLength(text, 'utf8')))) {
        throw badRequest("plugin config too large: with the plugin's stored data it exceeds its storage quota (plugins.storagequotabytes)");
      }
      // Mask the new secret values before the plugin sees them: it may log them while validating.
      this.instances.trackSecrets(session, conf.id, conf.config, text);
      try {
        await session.call(ConfigValidateAndSet, validateAndSetParams(session.protocolVersion, instanceId, text, checked.value));
      } catch (err) {
        this.instances.trackSecrets(session, conf.id, conf.config);
        if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_REJECTED') throw badRequest(err.message);
        throw this.callFailed(sup, err);
      }
      await this.deps.confs.update(conf.id, { config: text });
      this.instances.trackSecrets(session, conf.id, text);
    });
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
    const { conf, sup } = this.require(userId, id);
    if (!sup.capabilities.has('displayer')) return '';
    const { session, instanceId } = this.liveInstance(sup, conf);
    const loc: Location = { scheme: location.scheme, host: location.host, webhookBasePath: location.prefix + webhookBasePath(conf) };
    try {
      return (await session.call(DisplayGet, { instanceId, location: loc })).markdown;
    } catch (err) {
      throw this.callFailed(sup, err);
    }
  }

  /** A webhook under /plugin/:id/custom/:token/, routed by token (the id must match it): webhookTarget's checks, then the call (deadline → 504). */
  async webhook(id: number, token: string, req: WebhookInput): Promise<WebhookResponse> {
    const { sup, session, instanceId } = this.webhookTarget(id, token);
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
      throw this.callFailed(sup, err, gone);
    }
  }

  /**
   * The checks of a webhook that need no body, each once, in Gotify's order: unknown token, user
   * deleted, plugin absent, not a webhooker or not allowed → 404; disabled → 400 "plugin is
   * disabled"; not running or the instance not up → 503 (its state only: webhook callers are
   * anonymous). The route calls it before reading the body, so a caller with a wrong token is
   * answered at once and never makes the server hold its body; webhook() calls it again after.
   */
  webhookTarget(id: number, token: string): { sup: Plugin; session: PluginSession; instanceId: string } {
    const conf = this.deps.confs.getByToken(token);
    if (!conf || conf.id !== id) throw notFound('page not found');
    const sup = this.host.byModulePath(conf.modulePath);
    if (!sup || !sup.capabilities.has('webhooker') || !this.allows(conf.userId, sup)) throw notFound('page not found');
    if (!conf.enabled) throw badRequest('plugin is disabled');
    const { session, instanceId } = this.liveInstance(sup, conf, { anonymous: true });
    // Enabled in the store but not yet on this process (it is being brought up after a start or crash).
    if (!session.instances.get(instanceId)?.enabled) throw pluginUnavailable(sup, 'starting');
    return { sup, session, instanceId };
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
    const { conf, sup } = this.require(userId, id);
    this.failFastWhileStarting(sup, conf);
    return this.instances.withLock(userId, conf.modulePath, async () => {
      const current = this.deps.confs.get(conf.id);
      if (!current) throw notFound('unknown plugin');
      if (current.enabled === enabled) throw badRequest('config is already enabled/disabled');
      const { session, instanceId } = this.liveInstance(sup, current);
      // First enable of a messenger: its internal application appears now (none exists before).
      if (enabled && session.capabilities.has('messenger')) await this.instances.ensureApplication(session, current);
      try {
        await session.call(enabled ? InstanceEnable : InstanceDisable, { instanceId });
      } catch (err) {
        throw this.callFailed(sup, err);
      }
      const state = session.instances.get(instanceId);
      if (state) state.enabled = enabled;
      await this.deps.confs.update(conf.id, { enabled });
    });
  }

  /** Gotify's check order: another user's or a missing conf → 404 "unknown plugin"; plugin absent → 404 "plugin instance not found". */
  private require(userId: number, id: number): { conf: PluginConfRecord; sup: Plugin } {
    const conf = this.deps.confs.get(id);
    if (!conf || conf.userId !== userId) throw notFound('unknown plugin');
    const sup = this.host.byModulePath(conf.modulePath);
    if (!sup) throw notFound('plugin instance not found');
    if (!this.allows(userId, sup)) throw notFound('unknown plugin');
    return { conf, sup };
  }

  /**
   * While the plugin is not running yet, a call on an instance it has not brought up answers
   * 503 at once: queued on the instance's lock it would wait for a bring-up that may hang until
   * the call deadline (the server listens before slow plugins are up). Once running, calls
   * still queue, so a user's first enable waits for the instance addUser is creating.
   */
  private failFastWhileStarting(sup: Plugin, conf: PluginConfRecord): void {
    if (sup.status !== 'running') this.liveInstance(sup, conf);
  }

  /** The liveness check, in one place: the session when the instance exists on it; else 503 naming the plugin's state. */
  private liveInstance(sup: Plugin, conf: PluginConfRecord, opts: { anonymous?: boolean } = {}): { session: PluginSession; instanceId: string } {
    const session = sup.session;
    if (!session?.connected) throw pluginUnavailable(sup, 'not-running', opts.anonymous);
    const instanceId = String(conf.id);
    if (!session.instances.has(instanceId)) throw pluginUnavailable(sup, 'starting');
    return { session, instanceId };
  }

  /**
   * A failed plugin call keeps its kind (the plugin said no → 500 with its text, as Gotify; no
   * answer → 504; a bad answer → 502); only "gone" is rephrased, by the one 503 builder.
   */
  private callFailed(sup: Plugin, err: unknown, anonymous = false): unknown {
    return isPluginCallError(err) && err.status === 503 ? pluginUnavailable(sup, err, anonymous) : err;
  }

}
