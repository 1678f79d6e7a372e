import { z } from 'zod';
import { defineRequest } from './define.js';
import { InstanceId, InstanceParams } from './common.js';

/**
 * A configuration as JSON (1.1): the YAML document parsed by the host under the YAML 1.2 core
 * schema (spec §7.6), always a mapping. With it a plugin never needs a YAML parser.
 */
export const ConfigValue = z
  .record(z.string(), z.unknown())
  .describe('The configuration as a JSON object: the YAML text parsed by the host under the YAML 1.2 core schema (spec §7.6).');
export type ConfigValue = z.infer<typeof ConfigValue>;

export const DefaultConfigResult = z
  .object({
    config: z
      .string()
      .optional()
      .describe('The default configuration as YAML text, comments welcome: users edit it. REQUIRED in 1.0; in 1.1 `config` or `value` (or both: the text wins).'),
    value: ConfigValue.optional().describe('Since 1.1: the default configuration as JSON; when `config` is absent the host renders it as YAML.'),
    secretKeys: z
      .array(z.string())
      .optional()
      .describe('Top-level config keys whose values are secret: hosts redact them from logs and recordings.'),
  })
  .meta({ id: 'DefaultConfigResult' });
export type DefaultConfigResult = z.infer<typeof DefaultConfigResult>;

/** The default YAML for a new instance, stored by the host when the instance is first seen. */
export const ConfigDefault = defineRequest({
  method: 'config/default',
  direction: 'hostToPlugin',
  params: InstanceParams,
  result: DefaultConfigResult,
  capability: 'configurer',
  defaultTimeoutMs: 5_000,
  since: '1.0',
});

export const ValidateAndSetConfigParams = z
  .object({
    instanceId: InstanceId,
    config: z.string().describe('YAML text as the user wrote it. Missing keys keep their defaults; unknown keys are ignored.'),
    value: ConfigValue.optional().describe(
      'Since 1.1, always sent on a 1.1 connection: `config` parsed by the host (YAML 1.2 core schema), the same document as JSON. An empty document is {}.',
    ),
  })
  .meta({ id: 'ValidateAndSetConfigParams' });
export type ValidateAndSetConfigParams = z.infer<typeof ValidateAndSetConfigParams>;

/**
 * Validates a configuration and, when valid, applies it to the live instance. A rejection
 * is an InvalidConfig error whose message is a short reason for the user; the instance
 * keeps its previous configuration. MUST accept the plugin's own default config.
 */
export const ConfigValidateAndSet = defineRequest({
  method: 'config/validateAndSet',
  direction: 'hostToPlugin',
  params: ValidateAndSetConfigParams,
  result: z.object({}).meta({ id: 'ValidateAndSetConfigResult' }),
  capability: 'configurer',
  defaultTimeoutMs: 10_000,
  since: '1.0',
});
