import { ConfigValidateAndSet } from '@flow/protocol';
import { FlowError, badRequest, notFound } from '../errors.js';
import { checkConfig, validateAndSetParams } from '../plugins/config-schema.js';
import { isPluginCallError } from '../plugins/connection.js';
import type { PluginStorage } from '../plugins/storage.js';
import type { PluginConfStore } from '../store/plugin-conf.js';
import type { PluginGate } from './plugin-gate.js';
import type { PluginInstances } from './plugin-instances.js';

/** A user's plugin config over REST (Gotify's configurer): its schema (1.1), the stored YAML, and a checked change. */
export class PluginConfigs {
  constructor(
    private readonly deps: {
      confs: PluginConfStore;
      gate: PluginGate;
      instances: PluginInstances;
      storage: PluginStorage;
      /** plugins.configmaxbytes. */
      configMaxBytes: number;
    },
  ) {}

  /** GET /plugin/:id/configschema: the plugin's JSON Schema of its config (1.1); 404 when it declares none. */
  schema(userId: number, id: number): Record<string, unknown> {
    const { sup } = this.deps.gate.require(userId, id);
    const schema = sup.handshaken?.configSchema;
    if (!schema) throw notFound('the plugin declares no config schema');
    return schema.schema;
  }

  /** GET /plugin/:id/config: the stored YAML text, byte for byte. */
  get(userId: number, id: number): string {
    const { conf, sup } = this.deps.gate.require(userId, id);
    if (!sup.capabilities.has('configurer')) throw badRequest('plugin does not support configurer');
    return conf.config;
  }

  /**
   * POST /plugin/:id/config: the YAML must parse, then the live instance validates and
   * applies it; only then is the raw text stored. Any failure → 400 with the reason, and
   * neither the instance nor the store changes.
   */
  set(userId: number, id: number, text: string): Promise<void> {
    const { gate, instances, storage, confs } = this.deps;
    const { conf, sup } = gate.require(userId, id);
    if (!sup.capabilities.has('configurer')) throw badRequest('plugin does not support configurer');
    const maxBytes = this.deps.configMaxBytes;
    // Bounded before anything parses it: the text is stored per user and counted against the quota.
    if (Buffer.byteLength(text, 'utf8') > maxBytes) throw badRequest(`plugin config too large: the limit is ${maxBytes} bytes (plugins.configmaxbytes)`);
    const checked = checkConfig(sup.handshaken?.configSchema, text);
    if (!checked.ok) throw new FlowError('FLOW_ERR_BAD_REQUEST', checked.refusal.message, checked.refusal.issues ? { details: { issues: checked.refusal.issues } } : undefined);
    gate.failFastWhileStarting(sup, conf);
    return instances.withLock(userId, conf.modulePath, async () => {
      const { session, instanceId } = gate.liveInstance(sup, conf);
      if (!(await storage.configFits(conf.id, Buffer.byteLength(text, 'utf8')))) {
        throw badRequest("plugin config too large: with the plugin's stored data it exceeds its storage quota (plugins.storagequotabytes)");
      }
      // Mask the new secret values before the plugin sees them: it may log them while validating.
      instances.trackSecrets(session, conf.id, conf.config, text);
      try {
        await session.call(ConfigValidateAndSet, validateAndSetParams(session.protocolVersion, instanceId, text, checked.value));
      } catch (err) {
        instances.trackSecrets(session, conf.id, conf.config);
        if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_REJECTED') throw badRequest(err.message);
        throw gate.callFailed(sup, err);
      }
      await confs.update(conf.id, { config: text });
      instances.trackSecrets(session, conf.id, text);
    });
  }
}
