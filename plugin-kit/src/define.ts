import { CAPABILITIES, PluginInfo, type Capability } from '@flow/protocol';
import type { PluginInstanceClass } from './instance.js';

/** Host services a plugin calls: they cannot be read from its methods, so the plugin declares them. */
export type UsedCapability = Extract<Capability, 'messenger' | 'storager'>;

export interface PluginOptions {
  /** Descriptive info; `modulePath` is required and identifies the plugin (two plugins with the same one cannot both run). */
  info: PluginInfo;
  /** The instance class; one is constructed per user. Its methods decide the capabilities. */
  instance: PluginInstanceClass;
  /** Host services the instances call: 'messenger' for ctx.send, 'storager' for ctx.storage and ctx.kv. */
  uses?: readonly UsedCapability[];
  /** Top-level config keys whose values are secret: hosts redact them from logs and recordings. */
  secretKeys?: readonly string[];
  /**
   * A JSON Schema (draft 2020-12) of the config as the user writes it (protocol 1.1): a 1.1 host
   * validates every config against it before `validateAndSetConfig` and shows each violation
   * with its path; user interfaces may build a form from it. Keys with defaults should not be `required`.
   */
  configSchema?: Readonly<Record<string, unknown>>;
}

/** A validated plugin, ready for `runPlugin` or `createTestHost`. */
export interface PluginDefinition {
  readonly info: PluginInfo;
  readonly instance: PluginInstanceClass;
  /** Inferred from the instance class plus `uses`, in the protocol's canonical order. */
  readonly capabilities: readonly Capability[];
  readonly secretKeys: readonly string[];
  readonly configSchema: Readonly<Record<string, unknown>> | undefined;
}

/** Method names on the instance prototype that make a capability. */
const IMPLEMENTED_BY: ReadonlyArray<[Capability, readonly string[]]> = [
  ['configurer', ['defaultConfig', 'validateAndSetConfig']],
  ['displayer', ['getDisplay']],
  ['webhooker', ['handleWebhook']],
  ['subscriber', ['onMessage']],
];

/**
 * Checks a plugin's info and works out its capabilities. Throws at startup, with the fix in
 * the message, rather than letting the host find a half-declared plugin.
 *
 * @example
 * export const plugin = definePlugin({ info: { name: 'minimal plugin', modulePath: 'github.com/you/minimal' }, instance: Minimal });
 */
export function definePlugin(options: PluginOptions): PluginDefinition {
  const info = PluginInfo.safeParse(options.info);
  if (!info.success) {
    const issues = info.error.issues.map((issue) => `${issue.path.join('.') || 'info'}: ${issue.message}`).join('; ');
    throw new TypeError(`definePlugin: invalid info (${issues}); info.modulePath is required, e.g. "github.com/you/flow-plugin-name"`);
  }
  if (typeof options.instance !== 'function') throw new TypeError('definePlugin: `instance` must be a class extending PluginInstance');
  const prototype = options.instance.prototype as Record<string, unknown>;
  const has = (name: string): boolean => typeof prototype[name] === 'function';
  const capabilities = new Set<Capability>();
  for (const [capability, methods] of IMPLEMENTED_BY) {
    const present = methods.filter(has);
    if (present.length === methods.length) capabilities.add(capability);
    else if (present.length > 0) {
      const missing = methods.filter((name) => !has(name));
      throw new TypeError(`definePlugin: ${options.instance.name} has ${present.join(', ')} but not ${missing.join(', ')}; a ${capability} needs both`);
    }
  }
  if (options.configSchema !== undefined && !capabilities.has('configurer')) {
    throw new TypeError(`definePlugin: configSchema is given but ${options.instance.name} is not a configurer (defaultConfig + validateAndSetConfig)`);
  }
  if (options.configSchema !== undefined && (typeof options.configSchema !== 'object' || options.configSchema === null || Array.isArray(options.configSchema))) {
    throw new TypeError('definePlugin: configSchema must be a JSON Schema object');
  }
  for (const used of options.uses ?? []) {
    if (used !== 'messenger' && used !== 'storager') throw new TypeError(`definePlugin: uses: "${String(used)}" is not a host service; use 'messenger' or 'storager'`);
    capabilities.add(used);
  }
  return Object.freeze({
    info: Object.freeze({ ...info.data }),
    instance: options.instance,
    capabilities: Object.freeze(CAPABILITIES.filter((capability) => capabilities.has(capability))),
    secretKeys: Object.freeze([...(options.secretKeys ?? [])]),
    configSchema: options.configSchema,
  });
}
