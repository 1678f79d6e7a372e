import { type Db, put } from './db.js';
import type { PluginPermission } from '../model/plugin-permission.js';

// Keys: pperm!<modulePath> → "everyone" | "admins" | "nobody" (JSON). Only admins' choices are
// stored; a plugin without one has its manifest's default.
const PREFIX = 'pperm!';

/** Admins' per-plugin permission choices, cached in memory (every plugin request checks them). */
export class PluginPermissionStore {
  private readonly byModule = new Map<string, PluginPermission>();

  constructor(private readonly db: Db) {}

  async load(): Promise<void> {
    for (const [k, v] of await this.db.entries(PREFIX)) this.byModule.set(k.slice(PREFIX.length), JSON.parse(v) as PluginPermission);
  }

  get(modulePath: string): PluginPermission | undefined {
    return this.byModule.get(modulePath);
  }

  async set(modulePath: string, permission: PluginPermission): Promise<void> {
    await this.db.batch([put(PREFIX + modulePath, permission)]);
    this.byModule.set(modulePath, permission);
  }
}
