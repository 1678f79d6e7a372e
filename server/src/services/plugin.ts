import {
  CAPABILITIES,
  ConfigValidateAndSet,
  DisplayGet,
  ErrorCodes,
  InstanceDestroy,
  InstanceDisable,
  InstanceEnable,
  MessageReceived,
  WebhookRequest,
  type Location,
  type WebhookResponse,
} from '@flow/protocol';
import { HttpError, badRequest, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { ApplicationRecord } from '../model/application.js';
import { toExternalMessage, type MessageRecord } from '../model/message.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { UserRecord } from '../model/user.js';
import { isPluginCallError, type CancelSignal } from '../plugins/connection.js';
import { checkConfig, validateAndSetParams } from '../plugins/config-schema.js';
import { HostCalls } from '../plugins/host-calls.js';
import type { DiscoveredPlugin } from '../plugins/discovery.js';
import { PluginHost } from '../plugins/host.js';
import { PluginStorage } from '../plugins/storage.js';
import type { PluginConfExternal, PluginProcessInfo } from '../model/plugin.js';
import type { PluginSupervisor, SupervisorSettings } from '../plugins/supervisor.js';
import type { PluginConfStore } from '../store/plugin-conf.js';
import type { ApplicationService } from './application.js';
import type { MessageService } from './message.js';
import { PluginInstances, pool, webhookBasePath } from './plugin-instances.js';

export interface PluginSettings {
  /** Plugins folder and data dir (absolute). */
  dir: string;
  /** The plugins shipped with Flow, when `plugins.bundled` is on. */
  bundledDir?: string;
  dataDir: string;
  watch: boolean;
  watchDebounceMs: number;
  /** Requests in flight per plugin while creating, configuring and enabling instances (pipelined start). */
  startConcurrency: number;
  storageQuotaBytes: number;
  /** Key-value entries per instance (default 10,000). */
  storageMaxKeys?: number;
  /** Largest config text, a user's or a plugin's default (default 64 KiB). */
  configMaxBytes?: number;
  supervisor: SupervisorSettings;
}

export interface PluginServiceDeps {
  confs: PluginConfStore;
  users: { list(): UserRecord[]; get(id: number): UserRecord | undefined };
  applications: Pick<ApplicationService, 'get' | 'list' | 'createInternal' | 'setInternal'>;
  messages: Pick<MessageService, 'createForApplication'>;
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
 * The plugin model end to end: plugin confs (one per user × plugin), instances on the plugin
 * processes, internal applications, config, enable state, webhooks and subscribers. Routes
 * call it; the plugin host (plugins/) calls back into it when a process is ready.
 *
 * No lock is ever held across users or plugins: operations on one instance (user × plugin)
 * are serialised, so "enable twice" cannot race, while a hanging plugin delays only the
 * calls to that instance, each bounded by its deadline (Gotify §1.10 holds one global lock).
 */
export class PluginService {
  readonly host: PluginHost;
  private readonly storage: PluginStorage;
  private readonly calls: HostCalls;
  private readonly log: Logger;
  private readonly instances: PluginInstances;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: PluginServiceDeps) {
    this.log = deps.log.child({ component: 'plugins' });
    this.storage = new PluginStorage(deps.confs, {
      quotaBytes: deps.settings.storageQuotaBytes,
      maxKeys: deps.settings.storageMaxKeys ?? 10_000,
      configBytes: (confId) => Buffer.byteLength(deps.confs.get(confId)?.config ?? '', 'utf8'),
    });
    this.calls = new HostCalls({ confs: deps.confs, storage: this.storage, messages: deps.messages });
    this.instances = new PluginInstances({ confs: deps.confs, users: deps.users, applications: deps.applications, log: this.log, startConcurrency: deps.settings.startConcurrency, configMaxBytes: deps.settings.configMaxBytes ?? 64 * 1024 });
    this.host = new PluginHost({
      dir: deps.settings.dir,
      bundledDir: deps.settings.bundledDir,
      dataDir: deps.settings.dataDir,
      log: deps.log,
      settings: deps.settings.supervisor,
      watch: deps.settings.watch,
      watchDebounceMs: deps.settings.watchDebounceMs,
      hooks: {
        connected: (sup) => this.instances.bringUp(sup),
        disconnected: (sup) => this.instances.disconnected(sup),
        hostRequest: (sup, method, params) => this.calls.request(sup, method, params),
        hostNotification: (sup, method, params) => this.calls.notification(sup, method, params),
        removed: (sup) => this.pluginRemoved(sup),
      },
    });
    this.unsubscribe.push(
      deps.bus.on('userAdded', ({ user }) => this.userAdded(user)),
      deps.bus.on('userDeleting', ({ user }) => this.userDeleting(user)),
      deps.bus.on('messageCreated', ({ message, application }) => this.fanOut(message, application)),
    );
  }

  /**
   * Starts every plugin and creates and configures the instances of every user (not yet
   * enabled: that waits for `serverListening`), then fixes the internal flag of plugin
   * applications (internal only while their plugin is present, Gotify §1.7).
   */
  async start(): Promise<void> {
    await this.host.start();
    await this.reconcileInternalApps();
  }

  /**
   * The HTTP server listens: enable the instances whose users had them enabled, so a plugin
   * may call the server's own API from `enable` (gotify/server#616). Pipelined per plugin.
   */
  async serverListening(): Promise<void> {
    this.instances.listening = true;
    await Promise.all(
      this.host.list().map(async (sup) => {
        const t0 = performance.now();
        await pool([...sup.instances.keys()], this.deps.settings.startConcurrency, async (instanceId) => {
          const conf = this.deps.confs.get(Number(instanceId));
          if (conf?.enabled) await this.instances.withLock(conf.userId, conf.modulePath, () => this.instances.enableAtStart(sup, conf));
        });
        const enabled = [...sup.instances.values()].filter((i) => i.enabled).length;
        if (enabled > 0) sup.log.info({ enabled, ms: Math.round(performance.now() - t0) }, 'plugin instances enabled');
      }),
    );
  }

  /** Stops all plugins (bounded, in parallel). Safe to call twice. */
  async stop(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    await this.host.stop();
  }

  // ---- REST -------------------------------------------------------------------------------

  /** GET /plugin: the caller's confs whose plugin is present (dangling ones are left out, as Gotify). */
  list(userId: number): PluginConfExternal[] {
    const out: PluginConfExternal[] = [];
    const admin = this.deps.users.get(userId)?.admin ?? false;
    for (const conf of this.deps.confs.listByUser(userId)) {
      const sup = this.host.byModulePath(conf.modulePath);
      if (sup && this.allows(userId, sup)) out.push(this.toExternal(conf, sup, admin));
    }
    return out;
  }

  /** A user who may not use a plugin (plugin permissions) does not see it: its endpoints answer 404. */
  private allows(userId: number, sup: PluginSupervisor): boolean {
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
        this.log.warn({ err, instanceId: conf.id }, 'disabling an instance whose user lost access to the plugin failed; marking it disabled');
        return this.deps.confs.update(conf.id, { enabled: false });
      });
    }
  }

  /** GET /plugin/:id/config: the stored YAML text, byte for byte. */
  getConfig(userId: number, id: number): string {
    const { conf, sup } = this.require(userId, id);
    if (!sup.capabilities.has('configurer')) throw badRequest('plugin does not support configurer');
    return conf.config;
  }

  /** GET /plugin/:id/configschema: the plugin's JSON Schema of its config (1.1); 404 when it declares none. */
  getConfigSchema(userId: number, id: number): Record<string, unknown> {
    const { sup } = this.require(userId, id);
    if (!sup.configSchema) throw notFound('the plugin declares no config schema');
    return sup.configSchema.schema;
  }

  /**
   * POST /plugin/:id/config: the YAML must parse (YAML 1.2 core schema) to a mapping and match
   * the plugin's config schema (every violation in `issues`), then the live instance validates
   * and applies it; only then is the raw text stored. Any failure → 400 with the reason, and
   * neither the instance nor the store changes.
   */
  setConfig(userId: number, id: number, text: string): Promise<void> {
    const { conf, sup } = this.require(userId, id);
    if (!sup.capabilities.has('configurer')) throw badRequest('plugin does not support configurer');
    const maxBytes = this.deps.settings.configMaxBytes ?? 64 * 1024;
    // Bounded before anything parses it: the text is stored per user and counted against the quota.
    if (Buffer.byteLength(text, 'utf8') > maxBytes) throw badRequest(`plugin config too large: the limit is ${maxBytes} bytes (plugins.configmaxbytes)`);
    const checked = checkConfig(sup.configSchema, text);
    if (!checked.ok) throw new HttpError(400, checked.refusal.message, checked.refusal.issues ? { details: { issues: checked.refusal.issues } } : undefined);
    this.failFastWhileStarting(sup, conf);
    return this.instances.withLock(userId, conf.modulePath, async () => {
      const instanceId = this.liveInstance(sup, conf);
      if (!(await this.storage.configFits(conf.id, Buffer.byteLength(text, 'utf8')))) {
        throw badRequest('plugin config too large: with the plugin\'s stored data it exceeds its storage quota (plugins.storagequotabytes)');
      }
      // Mask the new secret values before the plugin sees them: it may log them while validating.
      this.instances.trackSecrets(sup, conf.id, conf.config, text);
      try {
        await sup.call(ConfigValidateAndSet, validateAndSetParams(sup.protocolVersion, instanceId, text, checked.value));
      } catch (err) {
        this.instances.trackSecrets(sup, conf.id, conf.config);
        if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_REJECTED') throw badRequest(err.message);
        throw this.httpError(err);
      }
      await this.deps.confs.update(conf.id, { config: text });
      this.instances.trackSecrets(sup, conf.id, text);
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
    const instanceId = this.liveInstance(sup, conf);
    const loc: Location = { scheme: location.scheme, host: location.host, webhookBasePath: location.prefix + webhookBasePath(conf) };
    try {
      return (await sup.call(DisplayGet, { instanceId, location: loc })).markdown;
    } catch (err) {
      throw this.httpError(err);
    }
  }

  /**
   * A webhook under /plugin/:id/custom/:token/. Routed by token (the id must match it);
   * unknown token, user deleted, plugin absent or not a webhooker → 404; disabled → 400
   * "plugin is disabled" (Gotify); plugin not running → 503; deadline passed → 504.
   */
  async webhook(id: number, token: string, req: WebhookInput): Promise<WebhookResponse> {
    const { sup, instanceId } = this.webhookTarget(id, token);
    try {
      return await sup.call(
        WebhookRequest,
        {
          instanceId,
          method: req.method,
          path: req.path,
          query: req.query,
          headers: req.headers,
          body: req.body.toString('base64'),
          ...(req.remoteAddress === undefined ? {} : { remoteAddress: req.remoteAddress }),
        },
        { signal: req.signal },
      );
    } catch (err) {
      return this.webhookFailed(sup, instanceId, err);
    }
  }

  /**
   * The checks of a webhook that need no body (token, capability, enabled, running): the route
   * calls it before reading the body, so an anonymous caller with a wrong token is answered at
   * once and never makes the server hold its body.
   */
  webhookTarget(id: number, token: string): { sup: PluginSupervisor; instanceId: string } {
    const conf = this.instances.confByToken(token);
    if (!conf || conf.id !== id) throw notFound('page not found');
    const sup = this.host.byModulePath(conf.modulePath);
    if (!sup || !sup.capabilities.has('webhooker') || !this.allows(conf.userId, sup)) throw notFound('page not found');
    if (!conf.enabled) throw badRequest('plugin is disabled');
    // Webhook callers are anonymous: they learn the plugin's state, never why (the exit
    // status and stderr lines in the reason are for the user and the admin endpoint).
    if (!sup.connected) throw webhookUnavailable(sup);
    const instanceId = this.liveInstance(sup, conf);
    // Enabled in the store but not yet on this process (it is being brought up after a start or crash).
    if (!sup.instances.get(instanceId)?.enabled) throw new HttpError(503, `plugin ${sup.info?.name ?? sup.plugin.name} is starting; try again shortly`, { expose: true });
    return { sup, instanceId };
  }

  private webhookFailed(sup: PluginSupervisor, instanceId: string, err: unknown): never {
    // The HTTP client sees the status; the administrator needs the plugin's side in the log.
    if (isPluginCallError(err) && (err.code === 'FLOW_ERR_PLUGIN_BAD_RESPONSE' || (err.code === 'FLOW_ERR_PLUGIN_TIMEOUT' && err.wireCode === ErrorCodes.Timeout))) {
      sup.log.warn({ instanceId, reason: sup.redact(err.message) }, 'webhook failed');
    }
    const httpErr = this.httpError(err);
    // A refusal while the plugin runs (its input backed up) names no reason worth hiding.
    const gone = (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_CLOSED') || !sup.connected || sup.status !== 'running';
    throw httpErr instanceof HttpError && httpErr.status === 503 && gone ? webhookUnavailable(sup, httpErr) : httpErr;
  }

  /** The admin view of every plugin in the folder. */
  processes(): PluginProcessInfo[] {
    return this.host.list().map((sup) => {
      const startedAt = sup.startedAt;
      return {
        name: sup.plugin.name,
        path: sup.plugin.path,
        modulePath: sup.modulePath ?? null,
        version: sup.info?.version ?? null,
        status: sup.status,
        statusReason: sup.statusDetail ?? null,
        pid: sup.pid ?? null,
        uptimeSeconds: startedAt === undefined ? null : Math.floor((Date.now() - startedAt) / 1000),
        restarts: sup.restarts,
        lastError: sup.lastError ?? null,
        instances: sup.instances.size,
        capabilities: [...sup.capabilities],
        stderr: sup.stderrTail(),
      };
    });
  }

  /** Admin restart: clears a failed or incompatible state and starts the plugin again. 404 for an unknown name. */
  async restart(name: string): Promise<PluginProcessInfo> {
    const sup = this.host.byName(name);
    if (!sup) throw notFound(`no plugin named ${name} in the plugins folder`);
    await sup.restart();
    return this.processes().find((p) => p.name === name)!;
  }

  private setEnabled(userId: number, id: number, enabled: boolean): Promise<void> {
    const { conf, sup } = this.require(userId, id);
    this.failFastWhileStarting(sup, conf);
    return this.instances.withLock(userId, conf.modulePath, async () => {
      const current = this.deps.confs.get(conf.id);
      if (!current) throw notFound('unknown plugin');
      if (current.enabled === enabled) throw badRequest('config is already enabled/disabled');
      const instanceId = this.liveInstance(sup, current);
      // First enable of a messenger: its internal application appears now (none exists before).
      if (enabled && sup.capabilities.has('messenger')) await this.instances.ensureApplication(sup, current);
      try {
        await sup.call(enabled ? InstanceEnable : InstanceDisable, { instanceId });
      } catch (err) {
        throw this.httpError(err);
      }
      const state = sup.instances.get(instanceId);
      if (state) state.enabled = enabled;
      await this.deps.confs.update(conf.id, { enabled });
    });
  }

  /** A user was added: give it an instance of every running plugin. Failures are logged, never block the user. */
  private async userAdded(user: UserRecord): Promise<void> {
    await Promise.all(this.host.list().map((sup) => this.instances.addUser(sup, user)));
  }

  /**
   * Before a user is deleted: its instances leave the processes' books at once (plugin calls
   * for them answer UnknownInstance), and `instance/disable` + `instance/destroy` are sent in
   * the background, each bounded by its deadline. Unlike Gotify (§1.11) a plugin can neither
   * veto nor delay the deletion: a failing or hanging plugin is logged and the user goes
   * anyway. The store deletes the confs with the user, so the webhooks answer 404 afterwards.
   */
  private userDeleting(user: UserRecord): void {
    for (const sup of this.host.list()) {
      const modulePath = sup.modulePath;
      if (!modulePath) continue;
      const conf = this.instances.confOf(user.id, modulePath);
      if (!conf) continue;
      this.instances.forget(conf);
      this.storage.forget(conf.id);
      // Under the instance's lock: a bring-up in flight for it finishes first, then it is taken down.
      void this.instances.withLock(user.id, modulePath, async () => {
        const instanceId = String(conf.id);
        const state = sup.instances.get(instanceId);
        if (!state) return;
        sup.instances.delete(instanceId);
        sup.setSecrets(instanceId, []);
        try {
          if (state.enabled) await sup.call(InstanceDisable, { instanceId });
          await sup.call(InstanceDestroy, { instanceId });
        } catch (err) {
          this.log.warn({ plugin: sup.plugin.name, instanceId, reason: sup.redact((err as Error).message) }, 'destroying the instance of a deleted user failed; the user is deleted anyway');
        }
      });
    }
  }

  /**
   * A new message: offer it to the user's enabled subscriber instances, except the one whose
   * application sent it. A notification: a slow subscriber delays nobody.
   */
  private fanOut(message: MessageRecord, _application: ApplicationRecord): void {
    let external: ReturnType<typeof toExternalMessage> | undefined;
    for (const sup of this.host.list()) {
      if (!sup.connected || !sup.capabilities.has('subscriber') || !sup.modulePath) continue;
      const conf = this.instances.confOf(message.userId, sup.modulePath);
      if (!conf || conf.applicationId === message.appId) continue;
      const instanceId = String(conf.id);
      if (!sup.instances.get(instanceId)?.enabled) continue;
      external ??= toExternalMessage(message);
      sup.notify(MessageReceived, { instanceId, message: external });
    }
  }

  /** A plugin's entry left the folder: its confs stay (dangling), its applications become deletable. */
  private async pluginRemoved(sup: PluginSupervisor): Promise<void> {
    const modulePath = sup.modulePath;
    if (!modulePath) return;
    for (const conf of this.deps.confs.list()) {
      if (conf.modulePath !== modulePath || conf.applicationId === 0) continue;
      const app = this.deps.applications.get(conf.applicationId);
      if (app?.internal) await this.deps.applications.setInternal(app.id, false).catch(() => undefined);
    }
  }

  /** Internal applications are internal exactly while their plugin is present (Gotify's startup fix, §7 case 32). */
  private async reconcileInternalApps(): Promise<void> {
    const owned = new Map<number, PluginConfRecord>();
    for (const conf of this.deps.confs.list()) if (conf.applicationId !== 0) owned.set(conf.applicationId, conf);
    for (const user of this.deps.users.list()) {
      for (const app of this.deps.applications.list(user.id)) {
        const conf = owned.get(app.id);
        const present = conf !== undefined && this.host.byModulePath(conf.modulePath) !== undefined;
        if (app.internal !== present) await this.deps.applications.setInternal(app.id, present).catch(() => undefined);
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** Gotify's check order: another user's or a missing conf → 404 "unknown plugin"; plugin absent → 404 "plugin instance not found". */
  private require(userId: number, id: number): { conf: PluginConfRecord; sup: PluginSupervisor } {
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
  private failFastWhileStarting(sup: PluginSupervisor, conf: PluginConfRecord): void {
    if (sup.status !== 'running') this.liveInstance(sup, conf);
  }

  /** The instance id when the instance exists on the running process; else 503 naming the plugin's state. */
  private liveInstance(sup: PluginSupervisor, conf: PluginConfRecord): string {
    const instanceId = String(conf.id);
    if (!sup.connected) throw new HttpError(503, sup.notRunning().message, { expose: true });
    if (!sup.instances.has(instanceId)) throw new HttpError(503, `plugin ${sup.info?.name ?? sup.plugin.name} is starting; try again shortly`, { expose: true });
    return instanceId;
  }

  /** Plugin call failures as HTTP: the plugin said no → 500 with its text (Gotify); no answer → 504; gone → 503. */
  private httpError(err: unknown): unknown {
    if (!isPluginCallError(err)) return err;
    switch (err.code) {
      case 'FLOW_ERR_PLUGIN_REJECTED':
        return new HttpError(500, err.message, { expose: true, cause: err });
      case 'FLOW_ERR_PLUGIN_TIMEOUT':
        return new HttpError(504, err.message, { expose: true, cause: err });
      case 'FLOW_ERR_PLUGIN_BAD_RESPONSE':
        return new HttpError(502, err.message, { expose: true, cause: err });
      default:
        return new HttpError(503, `the plugin is not available: ${err.message}`, { expose: true, cause: err });
    }
  }

  /** `admin`: the caller may read the plugin's stderr lines in its status (they may hold any user's data). */
  private toExternal(conf: PluginConfRecord, sup: PluginSupervisor, admin: boolean): PluginConfExternal {
    const info = sup.info;
    const out: PluginConfExternal = {
      id: conf.id,
      createdAt: conf.createdAt,
      name: info?.name || conf.modulePath,
      token: conf.token,
      modulePath: conf.modulePath,
      enabled: conf.enabled,
      // Gotify's order, always an array (Gotify sends null when there is none).
      capabilities: CAPABILITIES.filter((c) => sup.capabilities.has(c)),
      status: sup.status,
    };
    if (info?.author) out.author = info.author;
    if (info?.website) out.website = info.website;
    if (info?.license) out.license = info.license;
    if (info?.version) out.version = info.version;
    if (info?.description) out.description = info.description;
    const reason = admin ? sup.statusDetail : sup.statusReason;
    if (reason) out.statusReason = reason;
    return out;
  }


}

/** The 503 of a webhook whose plugin is not running, without the reason. */
function webhookUnavailable(sup: PluginSupervisor, cause?: unknown): HttpError {
  return new HttpError(503, `plugin ${sup.info?.name ?? sup.plugin.name} is not available (${sup.status})`, { expose: true, cause });
}
