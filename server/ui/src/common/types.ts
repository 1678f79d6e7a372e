/** Wire shapes of the Gotify 2.9.1 REST API as Flow serves them (gotify-behavior.md §2, §5). */

export interface User {
  id: number;
  name: string;
  admin: boolean;
}

export interface Client {
  id: number;
  token: string;
  name: string;
  lastUsed?: string | null;
}

export interface Application {
  id: number;
  token: string;
  name: string;
  description: string;
  internal: boolean;
  image: string;
  defaultPriority: number;
  lastUsed?: string | null;
}

export interface Message {
  id: number;
  appid: number;
  message: string;
  title: string;
  priority: number;
  extras?: Record<string, unknown>;
  date: string;
}

export interface PagedMessages {
  paging: { next?: string; size: number; since: number; limit: number };
  messages: Message[];
}

export type PluginStatus = 'running' | 'starting' | 'restarting' | 'failed' | 'incompatible';

export interface Plugin {
  id: number;
  name: string;
  token: string;
  modulePath: string;
  author?: string;
  website?: string;
  license?: string;
  enabled: boolean;
  capabilities: string[] | null;
  createdAt?: string;
  // Flow's additions to Gotify's PluginConfExternal.
  version?: string;
  description?: string;
  status?: PluginStatus;
  statusReason?: string;
  lastError?: string;
  reason?: string;
}

/** Gotify's error body, returned by every failing endpoint. */
export interface ErrorBody {
  error: string;
  errorCode: number;
  errorDescription: string;
}

/** One plugin process, from the admin-only `GET /plugin/admin/processes` (Flow only). */
export interface PluginProcess {
  /** Its entry in the plugins folder; the restart endpoint takes it. */
  name: string;
  path: string;
  modulePath: string | null;
  version: string | null;
  status: PluginStatus;
  statusReason: string | null;
  pid: number | null;
  uptimeSeconds: number | null;
  restarts: number;
  lastError: string | null;
  instances: number;
  capabilities: string[];
  /** The most recent stderr lines, oldest first. */
  stderr: string[];
}
