import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../common/api';
import { notify } from '../common/notify';
import { listPluginPermissions, setPluginPermission, type PluginPermission, type PluginPermissionItem } from './permissions';

/**
 * For admins: the plugin permissions by module path, `null` while loading or when the server does not support
 * them (then no control is shown), and a setter that saves one and tells the user.
 */
export function usePluginPermissions(enabled: boolean) {
  const [items, setItems] = useState<Map<string, PluginPermissionItem> | null>(null);
  const [saving, setSaving] = useState<string | null>(null);

  const reload = useCallback(async () => {
    if (!enabled) return;
    try {
      const list = await listPluginPermissions();
      setItems(list ? new Map(list.map((item) => [item.modulePath, item])) : null);
    } catch (err) {
      notify.error(errorMessage(err));
    }
  }, [enabled]);
  useEffect(() => void reload(), [reload]);

  const set = async (modulePath: string, permission: PluginPermission) => {
    setSaving(modulePath);
    try {
      const updated = await setPluginPermission(modulePath, permission);
      setItems((old) => new Map(old ?? []).set(modulePath, updated));
      notify.info(`Permission saved: ${updated.name} is for ${permission === 'everyone' ? 'everyone' : permission === 'admins' ? 'administrators only' : 'nobody'}`);
    } catch (err) {
      notify.error(errorMessage(err));
      await reload();
    } finally {
      setSaving(null);
    }
  };

  return { permissions: items, saving, set };
}
