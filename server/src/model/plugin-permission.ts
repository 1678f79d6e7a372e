/**
 * Who may use a plugin: every user, admins only, or nobody. Admins set it per plugin
 * (`PUT /plugin/permission`); until they do, the plugin's manifest says (`permission:` in its
 * plugin.yaml; plugins that reach the network on a user's behalf, like rss and alarm, ship
 * `admins`), and a plugin without a manifest is for everyone, as in Gotify.
 */
export type PluginPermission = 'everyone' | 'admins' | 'nobody';

export const PLUGIN_PERMISSIONS: readonly PluginPermission[] = ['everyone', 'admins', 'nobody'];

export const isPluginPermission = (v: unknown): v is PluginPermission => typeof v === 'string' && (PLUGIN_PERMISSIONS as readonly string[]).includes(v);

/** Wire shape of GET/PUT /plugin/permission. */
export interface PluginPermissionExternal {
  modulePath: string;
  name: string;
  permission: PluginPermission;
}
