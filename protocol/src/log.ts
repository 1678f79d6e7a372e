import { z } from 'zod';
import { defineNotification } from './define.js';
import { InstanceId } from './common.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LogLevel = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof LogLevel>;

export const LogParams = z
  .object({
    level: LogLevel,
    message: z.string(),
    instanceId: InstanceId.optional().describe('The instance the line is about, if any.'),
    fields: z.record(z.string(), z.unknown()).optional().describe('Structured context for the line.'),
  })
  .meta({ id: 'LogParams' });
export type LogParams = z.infer<typeof LogParams>;

/**
 * A log line for the host's log, tagged with the plugin. Plugins may also write plain
 * lines to stderr; this notification carries a level and the instance.
 */
export const LogWrite = defineNotification({
  method: 'log/write',
  direction: 'pluginToHost',
  params: LogParams,
  since: '1.0',
});
