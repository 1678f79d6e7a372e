import { useEffect, useState } from 'preact/hooks';
import { request } from '../common/api';
import { CopyableSecret } from '../common/copyable-secret';
import { LoadState } from '../common/load-state';
import { navigate } from '../common/router';
import { Switch } from '../common/switch';
import { PluginStatus } from './plugin-status';
import { capabilities, statusReason } from './plugins';
import { togglePlugin } from './toggle-plugin';
import { usePlugins } from './use-plugins';
import { Icon } from '../common/icons';
import { useStore } from '../common/store';
import { session } from '../session/session';
import { PermissionSelect } from './permission-select';
import { usePluginPermissions } from './use-permissions';
import type { PluginPermission, PluginPermissionItem } from './permissions';
import type { Plugin } from '../common/types';

interface UnlistedPermissionsProps {
  plugins: Plugin[];
  permissions: Map<string, PluginPermissionItem>;
  saving: string | null;
  onChange: (modulePath: string, permission: PluginPermission) => Promise<void>;
}

/**
 * Plugins the server hides from this admin's list (set to "nobody"): without this list they could not be
 * given back to anyone from the UI.
 */
function UnlistedPermissions({ plugins, permissions, saving, onChange }: UnlistedPermissionsProps) {
  const listed = new Set(plugins.map((p) => p.modulePath));
  const unlisted = [...permissions.values()].filter((item) => !listed.has(item.modulePath));
  if (unlisted.length === 0) return null;
  return (
    <div class="card panel unlisted-plugins">
      <h2 class="panel-title">Hidden plugins</h2>
      <p class="panel-help">Installed, but nobody may use them, so they are not in the list above.</p>
      <ul class="unlisted-list">
        {unlisted.map((item, i) => (
          <li key={item.modulePath} data-module-path={item.modulePath}>
            <span class="unlisted-name">
              <strong>{item.name}</strong> <code class="muted">{item.modulePath}</code>
            </span>
            <PermissionSelect
              id={`permission-unlisted-${i}`}
              pluginName={item.name}
              value={item.permission}
              disabled={saving === item.modulePath}
              onChange={(value) => void onChange(item.modulePath, value)}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The empty state: admins learn where to put plugins (the server's plugins folder path). */
function NoPlugins({ isAdmin }: { isAdmin: boolean }) {
  const [folder, setFolder] = useState<string | null>(null);
  useEffect(() => {
    if (isAdmin) void request<{ pluginsdir: string }>('GET', 'plugin/admin/folder').then((f) => setFolder(f.pluginsdir), () => undefined);
  }, [isAdmin]);
  if (!isAdmin) return <p class="empty">No plugins are available to you.</p>;
  return (
    <p class="empty">
      No plugins are installed. Put plugin executables, or folders with a plugin.yaml, in the plugins folder
      {folder ? <>: <code>{folder}</code></> : " (the server's pluginsdir)"}.
    </p>
  );
}

export function PluginsPage() {
  const { plugins, error, reload } = usePlugins();
  const current = useStore(session);
  const isAdmin = current.state === 'loggedIn' && current.user.admin;
  const { permissions, saving, set } = usePluginPermissions(isAdmin);
  // "Nobody" hides a plugin from every list, admins' included: the list is fetched again after a change.
  const setPermission = async (modulePath: string, permission: PluginPermission) => {
    await set(modulePath, permission);
    await reload();
  };
  // One toggle at a time per plugin: a double click would otherwise send "enable" twice (→ 400).
  const [busy, setBusy] = useState<number | null>(null);
  return (
    <section class="page plugins-page">
      <div class="page-header">
        <h4>Plugins</h4>
        <div class="page-actions">
          <button type="button" class="button" onClick={() => void reload()}>
            Refresh
          </button>
        </div>
      </div>
      <p class="page-subtitle">Plugins are the programs in the server's plugins folder; each user has their own instance.</p>
      <LoadState loading={plugins === null} error={error} onRetry={() => void reload()} />
      {plugins && (
        <div class="table-wrap card">
          {/* Columns 1-5 keep Gotify's order (ID, Enabled, Name, Token, Details), which its browser tests index. */}
          <table id="plugin-table" class="table">
            <thead>
              <tr>
                <th>ID</th>
                <th>Enabled</th>
                <th>Name</th>
                <th>Token</th>
                <th>Details</th>
                <th>Version</th>
                <th>Status</th>
                <th>Capabilities</th>
                {permissions && <th>Who may use it</th>}
              </tr>
            </thead>
            <tbody>
              {plugins.map((plugin) => (
                <tr key={plugin.id} data-id={plugin.id}>
                  <td class="id" data-label="ID">{plugin.id}</td>
                  <td class="enabled" data-label="Enabled">
                    <Switch
                      checked={plugin.enabled}
                      label={`${plugin.name} enabled`}
                      disabled={busy === plugin.id}
                      onChange={(on) => {
                        setBusy(plugin.id);
                        void togglePlugin(plugin, on, reload).finally(() => setBusy(null));
                      }}
                    />
                  </td>
                  <td class="name" data-label="Name">
                    <a href={`#/plugins/${plugin.id}`}>{plugin.name}</a>
                  </td>
                  <td class="token" data-label="Token">
                    <CopyableSecret value={plugin.token} label={`token of ${plugin.name}`} />
                  </td>
                  <td class="details" data-label="Details">
                    <button
                      type="button"
                      class="button small details-button"
                      aria-label={`Details of ${plugin.name}`}
                      onClick={() => navigate(`/plugins/${plugin.id}`)}
                    >
                      Details <Icon name="chevron" />
                    </button>
                  </td>
                  <td class="version" data-label="Version">{plugin.version ?? ''}</td>
                  <td class="status" data-label="Status">
                    <PluginStatus plugin={plugin} />
                    {statusReason(plugin) && <div class="status-reason-short">{statusReason(plugin)!.split('\n')[0]}</div>}
                  </td>
                  <td class="capabilities" data-label="Capabilities">
                    {capabilities(plugin).length === 0 && <span class="muted">none</span>}
                    {capabilities(plugin).map((cap) => (
                      <span key={cap} class="badge capability">
                        {cap}
                      </span>
                    ))}
                  </td>
                  {permissions && (
                    <td class="permission" data-label="Who may use it">
                      {permissions.get(plugin.modulePath) ? (
                        <PermissionSelect
                          id={`permission-${plugin.id}`}
                          pluginName={plugin.name}
                          value={permissions.get(plugin.modulePath)!.permission}
                          disabled={saving === plugin.modulePath}
                          onChange={(value) => void setPermission(plugin.modulePath, value)}
                        />
                      ) : (
                        <span class="muted">–</span>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {plugins.length === 0 && <NoPlugins isAdmin={isAdmin} />}
        </div>
      )}
      {plugins && permissions && <UnlistedPermissions plugins={plugins} permissions={permissions} saving={saving} onChange={setPermission} />}
    </section>
  );
}
