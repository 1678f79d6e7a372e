import type { LogParams } from '@flow/protocol';
import { DROPPED_LOG_LINES } from '../log-budget.js';
import { MAX_NESTING, valueDepth } from '../../parse/bounded.js';
import type { PluginSession } from '../session.js';

/**
 * `log/write`: a line for the server log on the plugin's logger, at the plugin's level,
 * tagged with the instance; secret config values and webhook tokens are masked first.
 */
export function logWrite(session: PluginSession, params: LogParams): void {
  const { log, logBudget, redactor } = session;
  if (!log.isLevelEnabled(params.level)) return;
  if (!logBudget.take((dropped) => log.warn({ fromPlugin: true, dropped }, DROPPED_LOG_LINES))) return;
  const fields: Record<string, unknown> = { fromPlugin: true };
  if (params.instanceId !== undefined) fields.instanceId = params.instanceId.slice(0, 128);
  if (params.fields !== undefined && valueDepth(params.fields) > MAX_NESTING) {
    fields.fields = `[fields nested deeper than ${MAX_NESTING} levels dropped]`;
  } else if (params.fields !== undefined) {
    // Bounded like a stderr line: a frame may carry megabytes, one log line should not.
    const json = JSON.stringify(params.fields);
    fields.fields = json.length <= MAX_FIELDS ? (JSON.parse(redactor.redact(json)) as unknown) : `[${json.length} characters of fields dropped]`;
  }
  // Masked before it is cut: a cut through a secret would leave a prefix nothing matches.
  const text = redactor.redact(params.message);
  log[params.level](fields, text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}… [${text.length} characters]`);
}

const MAX_MESSAGE = 2000;
const MAX_FIELDS = 8000;
