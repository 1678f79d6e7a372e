import type { PluginPermission } from '../../model/plugin-permission.js';
import type { PluginPermissionStore } from '../plugin-permission.js';
import type { PgDb } from './pg-db.js';

/** Admins' per-plugin permission choices in PostgreSQL (`plugin_permissions`), cached in memory. */
export class PgPluginPermissionStore implements PluginPermissionStore {
  private readonly byModule = new Map<string, PluginPermission>();

  constructor(private readonly db: PgDb) {}

  async load(): Promise<void> {
    const { rows } = await this.db.query<{ module_path: string; permission: PluginPermission }>('SELECT module_path, permission FROM plugin_permissions');
    for (const r of rows) this.byModule.set(r.module_path, r.permission);
  }

  /** Another replica changed the rules: memory takes what the database holds now. */
  async reload(): Promise<void> {
    const { rows } = await this.db.query<{ module_path: string; permission: PluginPermission }>('SELECT module_path, permission FROM plugin_permissions');
    this.byModule.clear();
    for (const r of rows) this.byModule.set(r.module_path, r.permission);
  }

  get(modulePath: string): PluginPermission | undefined {
    return this.byModule.get(modulePath);
  }

  list(): { modulePath: string; permission: PluginPermission }[] {
    return [...this.byModule].map(([modulePath, permission]) => ({ modulePath, permission }));
  }

  async set(modulePath: string, permission: PluginPermission): Promise<void> {
    await this.db.query(
      'INSERT INTO plugin_permissions (module_path, permission) VALUES ($1, $2) ON CONFLICT (module_path) DO UPDATE SET permission = EXCLUDED.permission',
      [modulePath, permission],
    );
    this.byModule.set(modulePath, permission);
  }
}
