import { diagnoseExecutable, type DiscoveredPlugin } from './discovery.js';
import type { ExitInfo, ProcessHandle } from './process.js';
import type { SessionEnd } from './session-contract.js';

/** Last stderr lines quoted in a crash's reason. */
const STDERR_IN_REASON = 5;

/** A process's exit in words; "before the handshake" when it never answered `initialize`. */
export function exitReason(exit: ExitInfo, handshaken: boolean): string {
  const how = exit.spawnError ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`);
  return handshaken ? how : `${how} before the handshake`;
}

/**
 * What a crashed session reports, once its process is gone: the reason, a diagnosis of the
 * executable when it never handshook (missing interpreter, not executable…), and its last
 * stderr lines — what an admin needs to fix a plugin that does not start.
 */
export async function crashEnd(plugin: DiscoveredPlugin, proc: ProcessHandle | undefined, handshaken: boolean, reason: string): Promise<SessionEnd> {
  let detail = reason;
  if (!handshaken && proc && plugin.kind === 'executable') {
    const hint = await diagnoseExecutable(plugin.command);
    if (hint) detail += `; ${hint}`;
  }
  const tail = proc?.stderr.tail(STDERR_IN_REASON) ?? [];
  return { kind: 'crashed', reason, detail, stderr: tail.length > 0 ? `; last stderr: ${tail.join(' | ')}` : '' };
}
