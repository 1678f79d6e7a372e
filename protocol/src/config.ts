import { z } from 'zod';
import { defineRequest } from './define.js';
import { InstanceId, InstanceParams } from './common.js';

export const DefaultConfigResult = z
  .object({
    config: z.string().describe('The default configuration as YAML text, comments welcome: users edit it.'),
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
