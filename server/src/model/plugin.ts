/** Wire shapes of the plugin endpoints (Gotify's plugin API plus Flow's status and admin view). */

/**
 * - `starting`: spawned, handshake or instance bring-up under way;
 * - `running`: serving;
 * - `restarting`: crashed, waiting out the backoff before the next start;
 * - `failed`: crash loop, handshake failure loop or duplicate module path; stays so until an
 *   admin restarts it or its file changes;
 * - `incompatible`: no common protocol version; same;
 * - `stopped`: stopped by the host (shutdown or removal).
 */
export type PluginStatus = 'starting' | 'running' | 'restarting' | 'failed' | 'incompatible' | 'stopped';

/** Gotify's PluginConfExternal plus Flow's version, description and status. */
export interface PluginConfExternal {
  id: number;
  createdAt: string;
  name: string;
  token: string;
  modulePath: string;
  author?: string;
  website?: string;
  license?: string;
  version?: string;
  description?: string;
  enabled: boolean;
  /** Always an array (Gotify sends null for none). */
  capabilities: string[];
  status: PluginStatus;
  /** Why the plugin is failed, incompatible or restarting; with its last stderr lines for admins only. */
  statusReason?: string;
}

/** One loaded plugin as the admin endpoint shows it. */
export interface PluginProcessInfo {
  name: string;
  path: string;
  modulePath: string | null;
  version: string | null;
  status: PluginStatus;
  statusReason: string | null;
  pid: number | null;
  /** Seconds since the current process started; null when none runs. */
  uptimeSeconds: number | null;
  restarts: number;
  lastError: string | null;
  instances: number;
  capabilities: string[];
  stderr: string[];
}
