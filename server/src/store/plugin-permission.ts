import type { PluginPermission } from '../model/plugin-permission.js';

/** Admins' per-plugin permission choices, cached in memory (every plugin request checks them). */
export interface PluginPermissionStore {
  load(): Promise<void>;
  get(modulePath: string): PluginPermission | undefined;
  set(modulePath: string, permission: PluginPermission): Promise<void>;
  /** Every stored choice (exports). */
  list(): { modulePath: string; permission: PluginPermission }[];
}
