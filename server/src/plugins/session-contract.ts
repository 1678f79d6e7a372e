import type { Logger } from '../log.js';
import type { PluginCallError } from './connection.js';
import type { DiscoveredPlugin } from './discovery.js';
import type { LogBudget } from './log-budget.js';
import type { PidFile } from './orphans.js';
import type { Spawner } from './process.js';
import type { SessionSettings } from './settings.js';

// The contract between a PluginSession and what is around it: what it needs, how it ends, what
// it knows of its instances. `S` is the session type (PluginSession), a parameter so that this
// file and session.ts do not import each other.

/**
 * A claim refused with a reason that starts with this is no failure: the host leaves the plugin
 * out on purpose (a bundled plugin whose module path a user's own copy serves) and has said so in
 * its own log line, so the session and supervisor log it at debug only.
 */
export const DELIBERATE_REFUSAL = 'left out:';

/** What a session needs from around it. */
export interface SessionPorts<S> {
  /** After a successful handshake: undefined to go on, or why this plugin may not run (duplicate module path). */
  claim(session: S): Promise<string | undefined>;
  /** Creates, configures and enables the instances on the fresh process. */
  bringUp(session: S): Promise<void>;
  hostRequest(session: S, method: string, params: unknown): Promise<unknown>;
  hostNotification(session: S, method: string, params: unknown): void;
  /** The error for a call this session cannot take: it names the plugin's state as its supervisor shows it. */
  notRunning(): PluginCallError;
}

export interface SessionDeps<S> {
  plugin: DiscoveredPlugin;
  settings: SessionSettings;
  ports: SessionPorts<S>;
  pids: PidFile;
  /** The plugin's logger (tagged with its entry name). */
  log: Logger;
  /** The plugin's webhook tokens, masked in everything it writes; shared by its sessions (same tokens every launch). */
  tokens: Set<string>;
  /** Bounds the plugin's `log/write` lines in the server log; shared by its sessions, so a restart does not refill it. */
  logBudget: LogBudget;
  /** PluginProcess.spawn unless a test hands in a fake process. */
  spawn?: Spawner;
}

/** How a session ended: the supervisor decides what comes next from this alone. */
export type SessionEnd =
  | { kind: 'stopped' }
  | { kind: 'incompatible' | 'refused'; reason: string }
  /** `detail`: the reason with a diagnosis of the executable; `stderr`: "; last stderr: …" or "". */
  | { kind: 'crashed'; reason: string; detail: string; stderr: string };

/** Handshaking and bringing up instances show as `starting`. */
export type SessionPhase = 'handshaking' | 'bringing-up' | 'running';

/** What the host knows about one instance on this session's process. */
export interface InstanceState {
  userId: number;
  /** `instance/enable` succeeded on this process (and no disable since). */
  enabled: boolean;
}
