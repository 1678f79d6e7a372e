import { badRequest, notFound } from '../errors.js';
import { isPluginPermission, PLUGIN_PERMISSIONS, type PluginPermission, type PluginPermissionExternal } from '../model/plugin-permission.js';
import type { UserRecord } from '../model/user.js';
import type { PluginPermissionStore } from '../store/plugin-permission.js';

/** A plugin as the permission rules see it: its module path, display name and manifest default. */
export interface PermissionSubject {
  modulePath: string;
  name: string;
  defaultPermission?: PluginPermission;
}

/**
 * Who may use which plugin. The plugin service asks `allows` on every plugin request (a user
 * who may not use a plugin does not see it in GET /plugin and gets 404 on its endpoints,
 * webhooks included); admins read and change the rules over REST.
 */
export class PluginPermissionService {
  constructor(
    private readonly deps: {
      store: PluginPermissionStore;
      users: { get(id: number): UserRecord | undefined };
      /** The plugins present now (the host's registry). */
      subjects(): PermissionSubject[];
      /** Disables the enabled instances of users who may no longer use `modulePath`. */
      revoke(modulePath: string, stillAllowed: (userId: number) => boolean): Promise<void>;
    },
  ) {}

  load(): Promise<void> {
    return this.deps.store.load();
  }

  effective(modulePath: string, defaultPermission: PluginPermission | undefined): PluginPermission {
    return this.deps.store.get(modulePath) ?? defaultPermission ?? 'everyone';
  }

  allows(userId: number, modulePath: string, defaultPermission: PluginPermission | undefined): boolean {
    return permits(this.effective(modulePath, defaultPermission), this.deps.users.get(userId));
  }

  /** GET /plugin/permission: every plugin present, by module path. */
  list(): PluginPermissionExternal[] {
    return this.deps
      .subjects()
      .map((s) => ({ modulePath: s.modulePath, name: s.name, permission: this.effective(s.modulePath, s.defaultPermission) }))
      .sort((a, b) => (a.modulePath < b.modulePath ? -1 : a.modulePath > b.modulePath ? 1 : 0));
  }

  /**
   * PUT /plugin/permission: 400 for a bad value, 404 for a module path no present plugin has.
   * Users who lose access have their instances disabled first (a revoked rss stops polling for
   * them), then the rule is stored.
   */
  async set(modulePath: unknown, permission: unknown): Promise<PluginPermissionExternal> {
    if (typeof modulePath !== 'string' || modulePath === '') throw badRequest("Field 'modulePath' is required");
    if (!isPluginPermission(permission)) throw badRequest(`permission must be one of ${PLUGIN_PERMISSIONS.join(', ')}`);
    const subject = this.deps.subjects().find((s) => s.modulePath === modulePath);
    if (!subject) throw notFound(`no plugin with module path ${modulePath}`);
    await this.deps.revoke(modulePath, (userId) => permits(permission, this.deps.users.get(userId)));
    await this.deps.store.set(modulePath, permission);
    return { modulePath, name: subject.name, permission };
  }

  /**
   * The rules were changed on another replica and read again here (cluster/notify-feed.ts): the
   * instances this replica runs for users who lost access are disabled, as `set` does there.
   */
  async reapply(): Promise<void> {
    for (const s of this.deps.subjects()) await this.deps.revoke(s.modulePath, (userId) => this.allows(userId, s.modulePath, s.defaultPermission));
  }
}

function permits(permission: PluginPermission, user: UserRecord | undefined): boolean {
  if (!user) return false;
  return permission === 'everyone' || (permission === 'admins' && user.admin);
}
