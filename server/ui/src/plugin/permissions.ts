import { ApiError, request } from '../common/api';

/** Who may use a plugin (admins set it; see the server's `GET/PUT /plugin/permission`). */
export type PluginPermission = 'everyone' | 'admins' | 'nobody';

export interface PluginPermissionItem {
  modulePath: string;
  name: string;
  permission: PluginPermission;
}

export const PERMISSIONS: { value: PluginPermission; label: string }[] = [
  { value: 'everyone', label: 'Everyone' },
  { value: 'admins', label: 'Administrators only' },
  { value: 'nobody', label: 'Nobody' },
];

/**
 * The permissions of every plugin, or `null` when the server has no such endpoint (404: a server from before
 * plugin permissions), in which case the UI shows no control for them.
 */
export async function listPluginPermissions(): Promise<PluginPermissionItem[] | null> {
  try {
    return await request<PluginPermissionItem[]>('GET', 'plugin/permission');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export function setPluginPermission(modulePath: string, permission: PluginPermission): Promise<PluginPermissionItem> {
  return request<PluginPermissionItem>('PUT', 'plugin/permission', { json: { modulePath, permission } });
}
