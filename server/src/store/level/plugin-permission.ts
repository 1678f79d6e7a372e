import type { PluginPermissionStore } from '../plugin-permission.js';
import { type Db } from './db.js';
import { type Op, put } from './ops.js';
import type { PluginPermission } from '../../model/plugin-permission.js';

// Keys: pperm!<modulePath> → "everyone" | "admins" | "nobody" (JSON). Only admins' choices are
// stored; a plugin without one has its manifest's default.
const PREFIX = 'pperm!';

/** Admins' per-plugin permission choices, cached in memory (every plugin request checks them). */
export class LevelPluginPermissionStore implements PluginPermissionStore {
  private readonly byModule = new Map<string, PluginPermission>();

  constructor(private readonly db: Db) {}

  async load(): Promise<void> {
    for (const [k, v] of await this.db.entries(PREFIX)) this.byModule.set(k.slice(PREFIX.length), JSON.parse(v) as PluginPermission);
  }

  get(modulePath: string): PluginPermission | undefined {
    return this.byModule.get(modulePath);
  }

  list(): { modulePath: string; permission: PluginPermission }[] {
    return [...this.byModule].map(([modulePath, permission]) => ({ modulePath, permission }));
  }

  /** The op writing a choice into a data dir being built offline (flow migrate); memory is not touched. */
  importOp(modulePath: string, permission: PluginPermission): Op {
    return put(PREFIX + modulePath, permission);
  }

  async set(modulePath: string, permission: PluginPermission): Promise<void> {
    await this.db.batch([put(PREFIX + modulePath, permission)]);
    this.byModule.set(modulePath, permission);
  }
}
