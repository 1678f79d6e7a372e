import { ErrorCodes, Initialize, SUPPORTED_PROTOCOL_VERSIONS, negotiateVersion, type IncompatibleVersionData, type PluginInfo, type ResultOf } from '@flow/protocol';
import { isPluginCallError, type PluginConnection } from './connection.js';
import { checkProtocolRange, type DiscoveredPlugin } from './discovery.js';
import type { ProcessHandle } from './process.js';
import type { SessionSettings } from './settings.js';

/** How long a failed handshake waits for the process's exit before it reports the failure itself. */
const EXIT_GRACE_MS = 200;

/** What `initialize` came to; the session acts on it. */
export type HandshakeOutcome =
  | { kind: 'ok'; result: ResultOf<typeof Initialize> }
  /** No common protocol version (`info` when the plugin said who it is). */
  | { kind: 'incompatible'; reason: string; info?: PluginInfo }
  /** No answer in time, or a failed answer while the process runs: it is killed as crashed. */
  | { kind: 'failed'; reason: string }
  /** The process is gone (its exit reports why) or the session ends anyway. */
  | { kind: 'gone' };

/**
 * `initialize` within the handshake deadline, then the version check (incompatible names both
 * sides). An exit or garbage before the answer is the exit's (or the output watch's) to report.
 */
export async function handshake(conn: PluginConnection, proc: ProcessHandle, settings: SessionSettings, ending: () => boolean): Promise<HandshakeOutcome> {
  const theirs = SUPPORTED_PROTOCOL_VERSIONS.join(', ');
  let result: ResultOf<typeof Initialize>;
  try {
    const params = { protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS], host: { name: 'flow', version: settings.hostVersion }, limits: settings.limits };
    result = await conn.request(Initialize, params, { timeoutMs: settings.handshakeTimeoutMs });
  } catch (err) {
    if (ending()) return { kind: 'gone' };
    if (isPluginCallError(err) && err.data.wireCode === ErrorCodes.IncompatibleVersion) {
      const data = err.data.data as Partial<IncompatibleVersionData> | undefined;
      const speaks = Array.isArray(data?.pluginVersions) ? data.pluginVersions.join(', ') : 'unknown';
      return { kind: 'incompatible', reason: `protocol version mismatch: the plugin speaks ${speaks}, this server speaks ${theirs}` };
    }
    if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_CLOSED') return { kind: 'gone' };
    // A plugin that dies at once fails the first write (EPIPE) before its exit is seen; its
    // exit status says more, and the exit handler reports it.
    if ((await proc.waitExit(EXIT_GRACE_MS)) || ending()) return { kind: 'gone' };
    const timedOut = isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_TIMEOUT';
    return { kind: 'failed', reason: timedOut ? `did not complete the handshake within ${settings.handshakeTimeoutMs} ms (plugins.handshaketimeoutms)` : `failed the handshake: ${(err as Error).message}` };
  }
  // Any version we speak: 1.0 from a 1.0 plugin to our 1.1 offer is fine (spec §4.3), a pick above the offer is not.
  const picked = negotiateVersion([result.protocolVersion]);
  if (!picked || picked !== result.protocolVersion) {
    return { kind: 'incompatible', reason: `protocol version mismatch: the plugin picked ${result.protocolVersion}, this server speaks ${theirs}`, info: result.info };
  }
  return { kind: 'ok', result };
}

/** The manifest's `protocol` range, checked before anything is spawned; undefined when it fits. */
export function protocolRangeProblem(plugin: DiscoveredPlugin): string | undefined {
  try {
    return checkProtocolRange(plugin.protocol);
  } catch (err) {
    return (err as Error).message;
  }
}
