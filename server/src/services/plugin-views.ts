import { CAPABILITIES } from '@flow/protocol';
import { FlowError } from '../errors.js';
import type { PluginConfExternal, PluginProcessInfo } from '../model/plugin.js';
import type { PluginConfRecord } from '../model/plugin-conf.js';
import type { PluginCallError } from '../plugins/connection.js';
import type { Plugin } from '../plugins/host.js';

/**
 * Every 503 of the plugin endpoints, built here only:
 * - `starting`: the plugin runs but this instance is not up on it yet;
 * - `not-running`: no session takes calls; the text names the state and why (for the instance's user);
 * - a call that failed because the process went away or refused it (input backed up);
 * - with replicas (no `sup`: the plugin may not be on this replica): `owner-gone`, the replica
 *   holding the instance stopped answering and its lease has not expired yet; `no-replica`, the
 *   instance exists but no live replica runs it and its plugin is not here to take it.
 * `anonymous` (webhook callers): the plugin's state only, never why: the exit status and
 * stderr lines in the reason are for the user and the admin endpoint.
 */
export function pluginUnavailable(sup: Plugin | undefined, cause: 'starting' | 'not-running' | 'owner-gone' | 'no-replica' | PluginCallError, anonymous = false): FlowError {
  const unavailable = (message: string) => new FlowError('FLOW_ERR_PLUGIN_NOT_RUNNING', message, { cause: typeof cause === 'string' ? undefined : cause });
  if (cause === 'owner-gone') return unavailable('the replica running this plugin instance is gone; the instance moves to another replica within seconds, try again shortly');
  if (cause === 'no-replica' || !sup) return unavailable('no Flow replica runs this plugin instance now (its plugin is not on this replica); try again shortly');
  const name = sup.info?.name ?? sup.plugin.name;
  if (cause === 'starting') return unavailable(`plugin ${name} is starting; try again shortly`);
  if (anonymous) return unavailable(`plugin ${name} is not available (${sup.status})`);
  if (cause === 'not-running') return unavailable(sup.notRunning().message);
  return unavailable(`the plugin is not available: ${cause.message}`);
}

/** GET /plugin's item. `admin`: the caller may read the plugin's stderr lines in its status (they may hold any user's data). */
export function toExternalPluginConf(conf: PluginConfRecord, sup: Plugin, admin: boolean): PluginConfExternal {
  const info = sup.info;
  const capabilities = sup.capabilities;
  const out: PluginConfExternal = {
    id: conf.id,
    createdAt: conf.createdAt,
    name: info?.name || conf.modulePath,
    token: conf.token,
    modulePath: conf.modulePath,
    enabled: conf.enabled,
    // Gotify's order, always an array (Gotify sends null when there is none).
    capabilities: CAPABILITIES.filter((c) => capabilities.has(c)),
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

/** One plugin of the folder as GET /plugin/admin/processes shows it. */
export function processInfo(sup: Plugin): PluginProcessInfo {
  const session = sup.session;
  const startedAt = session?.startedAt;
  return {
    name: sup.plugin.name,
    path: sup.plugin.path,
    modulePath: sup.modulePath ?? null,
    version: sup.info?.version ?? null,
    status: sup.status,
    statusReason: sup.statusDetail ?? null,
    pid: session?.pid ?? null,
    uptimeSeconds: startedAt === undefined ? null : Math.floor((Date.now() - startedAt) / 1000),
    restarts: sup.restarts,
    lastError: sup.lastError ?? null,
    instances: session?.instances.size ?? 0,
    capabilities: [...sup.capabilities],
    stderr: sup.stderrTail(),
  };
}
