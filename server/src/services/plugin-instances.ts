import { ConfigDefault, ConfigValidateAndSet, ErrorCodes, InstanceCreate, InstanceDestroy, InstanceDisable, InstanceEnable, scalarLeaves } from '@flow/protocol';
import { parseYamlBounded } from '../parse/bounded.js';
import { FlowError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { UserRecord } from '../model/user.js';
import { webhookBasePath } from '../model/webhook-path.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import { pool } from '../lib/pool.js';
import { checkConfig, defaultConfigText, validateAndSetParams } from '../plugins/config-schema.js';
import { isPluginCallError, pluginCallError } from '../plugins/connection.js';
import { OWNS_EVERYTHING, type InstanceOwnership } from '../plugins/ports.js';
import type { PluginSession } from '../plugins/session.js';
import type { PluginConfStore } from '../store/plugin-conf.js';
import type { ApplicationService } from './application.js';
import { newPluginToken } from './token.js';

/**
 * 'take': take the instance's lease if free; 'held': only if this replica already holds it;
 * `{ budget }`: held, or taken while the budget (shared by one bring-up) lasts.
 */
type Claim = 'take' | 'held' | { budget: number };

/** The key of one instance (user × plugin) in the locks. */
const instanceKey = (userId: number, modulePath: string): string => `${userId}\0${modulePath}`;

/**
 * Gotify's fallback for a stored config the plugin rejects at start: the defaults, then the
 * user's text as comments, so it is never lost (CRLF, as Gotify writes it). Unlike Gotify the
 * "default" block really is the plugin's default, not the rejected values re-marshalled.
 */
function fallbackConfig(defaultYaml: string, original: string): string {
  const lines = original.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  return (
    '# Plugin initialization failed because it rejected the current config. It might be outdated.\r\n' +
    '# A default plugin configuration is used:\r\n' +
    defaultYaml.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n').join('\r\n') +
    '\r\n' +
    '# The original configuration: \r\n' +
    lines.map((l) => `# ${l}\r\n`).join('')
  );
}

export interface PluginInstancesDeps {
  confs: PluginConfStore;
  users: { list(): UserRecord[] };
  applications: Pick<ApplicationService, 'get' | 'createInternal' | 'setInternal'>;
  log: Logger;
  /** Requests in flight per plugin while bringing instances up. */
  startConcurrency: number;
  /** Largest config text a plugin's config/default may answer (plugins.configmaxbytes). */
  configMaxBytes?: number;
  /** Which instances this replica may run (plugins/ports.ts); every one when absent (LevelDB). */
  ownership?: InstanceOwnership;
}

/**
 * The instances of every user on a plugin session: bringing them up on a fresh process (conf,
 * internal application, `instance/create`, stored config, enable), the per-instance locks and
 * the secret values to mask. PluginService (REST) and PluginEvents (users, messages) use it.
 */
export class PluginInstances {
  /** Set once the HTTP server listens: from then on instances are enabled as they come up. */
  listening = false;
  private readonly locks = new KeyedMutex<string>();
  private readonly log: Logger;
  private readonly ownership: InstanceOwnership;

  constructor(private readonly deps: PluginInstancesDeps) {
    this.log = deps.log;
    this.ownership = deps.ownership ?? OWNS_EVERYTHING;
  }

  /**
   * A fresh process is ready (start, restart, replaced file): create every user's instance.
   * The first user goes alone (it tells us the plugin's secret config keys), the rest with
   * `startConcurrency` in flight, so 10,000 users do not cost 10,000 round trips in a row.
   */
  async bringUp(session: PluginSession): Promise<void> {
    const users = this.deps.users.list();
    if (users.length === 0) return;
    const t0 = performance.now();
    // With replicas, a fresh process gets the instances this replica holds (its plugin crashed
    // and restarted) and free ones up to its fair share; the leases' rounds take the rest later.
    const claim: Claim = this.ownership.clustered ? { budget: await this.ownership.shareLeft(session.info!.modulePath, users.length) } : 'take';
    await this.ensureInstanceLogged(session, users[0]!, undefined, claim);
    await pool(users.slice(1), this.deps.startConcurrency, (user) => this.ensureInstanceLogged(session, user, undefined, claim));
    session.log.info({ instances: session.instances.size, ms: Math.round(performance.now() - t0) }, 'plugin instances created and configured');
  }

  /**
   * A user was added: resolves once its conf (and internal application) exists, so POST /user
   * answers without waiting for the plugin; the plugin calls go on in the background under the
   * instance's lock, which REST calls on that instance queue behind.
   */
  addUser(session: PluginSession, user: UserRecord): Promise<void> {
    let confReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (confReady = resolve));
    void this.ensureInstanceLogged(session, user, confReady).finally(confReady);
    return ready;
  }

  /** Brings up one user's instance; failures are logged, never thrown. */
  async ensureInstanceLogged(session: PluginSession, user: UserRecord, confReady?: () => void, claim: Claim = 'take'): Promise<void> {
    if (!session.connected) return;
    try {
      await this.ensureInstance(session, user, confReady, claim);
    } catch (err) {
      if (!session.connected) return; // the crash is reported by the supervisor
      // No answer while the process starts: it is hung, not slow for one user. Waiting out the
      // deadline for every user would hold the plugin's start (and startFlow, up to plugins.startwaitms) for
      // deadline × users / startconcurrency, with the plugin shown "running" and no instance.
      if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_TIMEOUT' && session.phase !== 'running') {
        session.hung(`hung while its instances were created: ${err.message}`);
        return;
      }
      this.log.error({ err, plugin: session.plugin.name, userId: user.id }, 'creating a plugin instance failed');
    }
  }

  /**
   * Gotify's initializeSingleUserPlugin, per user × plugin:
   * 1. find or create the conf (token P+22, empty config);
   * 2. messenger: find or create the internal application (also when it was deleted meanwhile, gotify/server#983);
   * 3. `instance/create`;
   * 4. configurer: store the default config if none, then validate the stored one; a rejection
   *    disables the instance and keeps the user's text as comments under the default;
   * 5. if enabled and the server already listens: `instance/enable` (a refusal disables it).
   */
  private async ensureInstance(session: PluginSession, user: UserRecord, confReady?: () => void, claim: Claim = 'take'): Promise<void> {
    const modulePath = session.info!.modulePath;
    await this.withLock(user.id, modulePath, async () => {
      if (!session.connected) return;
      let conf = await this.confFor(user.id, modulePath);
      confReady?.();
      const instanceId = String(conf.id);
      if (!session.instances.has(instanceId)) {
        // Another replica runs it (with LevelDB this is always true, at no cost).
        if (!(await this.claim(conf.id, claim))) return;
        session.redactor.addToken(conf.token);
        await session.call(InstanceCreate, { instanceId, user: { id: user.id, name: user.name, admin: user.admin }, webhookBasePath: webhookBasePath(conf) });
        session.instances.set(instanceId, { userId: user.id, enabled: false });
        if (session.capabilities.has('configurer')) conf = await this.applyStoredConfig(session, conf);
      }
      // The internal application comes with the first enable, not with the instance (a user who
      // never enables a plugin gets none), and only from the replica that runs the instance.
      if (session.capabilities.has('messenger') && conf.enabled) conf = await this.ensureApplication(session, conf);
      if (this.listening && conf.enabled) await this.enableAtStart(session, conf);
    });
  }

  private async confFor(userId: number, modulePath: string): Promise<PluginConfRecord> {
    const existing = this.deps.confs.getByUserAndPath(userId, modulePath);
    if (existing) return existing;
    // No application yet: a messenger's internal application is created when the user enables it.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.confs.create({ userId, modulePath, token: newPluginToken(), applicationId: 0, config: '' });
      } catch (err) {
        // Another replica created it first (the user came from there), or a token collision
        // (2^-132) that gets a new token; anything else is real.
        if (!(err instanceof FlowError && err.code === 'FLOW_ERR_STORE_CONFLICT') || attempt >= 2) throw err;
        const raced = this.deps.confs.getByUserAndPath(userId, modulePath) ?? (await this.deps.confs.reread?.(userId, modulePath));
        if (raced) return raced;
      }
    }
  }

  /**
   * A messenger's internal application: found, made internal again, or created (also when it was
   * deleted meanwhile) as Gotify makes it: named after the plugin, described by its module path.
   * With replicas both the creation and the link commit only while the instance's lease holds
   * (a lease lost between the two leaves an unlinked application, made non-internal, so
   * deletable, by the next start's reconcileInternalApps).
   */
  async ensureApplication(session: PluginSession, conf: PluginConfRecord): Promise<PluginConfRecord> {
    const app = conf.applicationId === 0 ? undefined : this.deps.applications.get(conf.applicationId);
    if (app) {
      if (!app.internal) await this.deps.applications.setInternal(app.id, true);
      return conf;
    }
    const fence = this.ownership.fence(conf.id);
    const name = session.info?.name || conf.modulePath;
    const created = await this.deps.applications.createInternal(conf.userId, { name, description: `auto generated application for ${conf.modulePath}` }, fence);
    return this.deps.confs.update(conf.id, { applicationId: created.id }, fence);
  }

  private async applyStoredConfig(session: PluginSession, conf: PluginConfRecord): Promise<PluginConfRecord> {
    const instanceId = String(conf.id);
    let defaults: string | undefined;
    const askDefaults = async (): Promise<string> => {
      const result = await session.call(ConfigDefault, { instanceId });
      const max = this.deps.configMaxBytes ?? 64 * 1024;
      const size = Buffer.byteLength(defaultConfigText(result), 'utf8');
      // Stored for every user of the plugin: a huge default would cost its size per user.
      if (size > max) {
        throw new FlowError('FLOW_ERR_PLUGIN_BAD_RESPONSE', `the plugin's default config is ${size} bytes, over the ${max}-byte limit (plugins.configmaxbytes); the instance was not configured`);
      }
      session.secretKeys = result.secretKeys ?? [];
      return defaultConfigText(result);
    };
    if (conf.config === '' || session.secretKeys === undefined) {
      defaults = await askDefaults();
      if (conf.config === '') conf = await this.deps.confs.update(conf.id, { config: defaults });
    }
    this.trackSecrets(session, conf.id, conf.config);
    // The host parses and schema-checks first (spec §7.6): a stored text the plugin's schema now
    // refuses is handled like the plugin refusing it.
    const checked = checkConfig(session.configSchema, conf.config);
    try {
      if (!checked.ok) throw pluginCallError('FLOW_ERR_PLUGIN_REJECTED', checked.refusal.message, ErrorCodes.InvalidConfig);
      await session.call(ConfigValidateAndSet, validateAndSetParams(session.protocolVersion, instanceId, conf.config, checked.value));
      return conf;
    } catch (err) {
      if (!(isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_REJECTED')) throw err;
      defaults ??= await askDefaults();
      this.log.warn({ plugin: session.plugin.name, instanceId, reason: session.redactor.redact(err.message) }, 'the plugin rejected the stored config at start; the instance runs on its defaults and is disabled, the old text is kept as comments');
      const updated = await this.deps.confs.update(conf.id, { config: fallbackConfig(defaults, conf.config), enabled: false });
      const fallback = checkConfig(undefined, defaults);
      await session.call(ConfigValidateAndSet, validateAndSetParams(session.protocolVersion, instanceId, defaults, fallback.ok ? fallback.value : {})).catch(() => undefined);
      return updated;
    }
  }


  /** Re-enables an instance the user had enabled; a refusal is stored as disabled, as Gotify does at start. */
  async enableAtStart(session: PluginSession, conf: PluginConfRecord): Promise<void> {
    const instanceId = String(conf.id);
    const state = session.instances.get(instanceId);
    if (!state || state.enabled || !session.connected) return;
    try {
      await session.call(InstanceEnable, { instanceId });
      state.enabled = true;
    } catch (err) {
      if (!session.connected) return;
      // The plugin's text may quote its config or webhook URL: masked like its stderr.
      this.log.warn({ plugin: session.plugin.name, instanceId, reason: session.redactor.redact((err as Error).message) }, 'the plugin refused to enable an instance at start; it is now disabled');
      await this.deps.confs.update(conf.id, { enabled: false });
    }
  }

  /** Registers the values of the plugin's secret keys found in these YAML texts for masking (replacing earlier ones). */
  trackSecrets(session: PluginSession, confId: number, ...texts: string[]): void {
    const keys = session.secretKeys ?? [];
    if (keys.length === 0) return;
    const values: string[] = [];
    for (const text of texts) {
      let doc: unknown;
      try {
        doc = parseYamlBounded(text);
      } catch {
        continue;
      }
      if (doc === null || typeof doc !== 'object') continue;
      // A mapping or list under a secret key (headers holding tokens) is secret throughout.
      for (const key of keys) values.push(...scalarLeaves((doc as Record<string, unknown>)[key]));
    }
    session.redactor.setSecrets(String(confId), values);
  }

  private async claim(confId: number, claim: Claim): Promise<boolean> {
    if (claim === 'take') return this.ownership.take(confId);
    if (this.ownership.holds(confId)) return true;
    if (claim === 'held' || claim.budget <= 0) return false;
    claim.budget--; // reserved before the await: the bring-up runs users concurrently
    if (await this.ownership.take(confId)) return true;
    claim.budget++;
    return false;
  }

  /** Brings up an instance whose lease this replica has just taken (cluster/plugin-leases.ts); throws on failure. */
  adopt(session: PluginSession, user: UserRecord): Promise<void> {
    return this.ensureInstance(session, user, undefined, 'held');
  }

  /**
   * The instance's lease was lost (another replica may run it now): it leaves this process at
   * once, so its host calls are refused, then its timers are stopped (disable, destroy).
   */
  drop(session: PluginSession, conf: PluginConfRecord): Promise<void> {
    return this.withLock(conf.userId, conf.modulePath, async () => {
      const instanceId = String(conf.id);
      const state = session.instances.get(instanceId);
      if (!state) return;
      session.instances.delete(instanceId);
      if (state.enabled) await session.call(InstanceDisable, { instanceId }).catch(() => undefined);
      await session.call(InstanceDestroy, { instanceId }).catch(() => undefined);
    });
  }

  /**
   * Runs `fn` after every earlier operation on the same instance (user × plugin); other
   * instances never wait for it.
   */
  withLock<T>(userId: number, modulePath: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(instanceKey(userId, modulePath), fn);
  }
}
