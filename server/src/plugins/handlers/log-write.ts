import type { LogParams } from '@flow/protocol';
import type { PluginSupervisor } from '../supervisor.js';

/**
 * `log/write`: a line for the server log on the plugin's logger, at the plugin's level,
 * tagged with the instance; secret config values and webhook tokens are masked first.
 */
export function logWrite(sup: PluginSupervisor, params: LogParams): void {
  if (!sup.log.isLevelEnabled(params.level)) return;
  const fields: Record<string, unknown> = { fromPlugin: true };
  if (params.instanceId !== undefined) fields.instanceId = params.instanceId;
  if (params.fields !== undefined) fields.fields = JSON.parse(sup.redact(JSON.stringify(params.fields))) as unknown;
  sup.log[params.level](fields, sup.redact(params.message));
}
