import { errorMessage } from '../common/api';
import { CopyableSecret } from '../common/copyable-secret';
import { LoadState } from '../common/load-state';
import { notify } from '../common/notify';
import { navigate } from '../common/router';
import { Switch } from '../common/switch';
import type { Plugin } from '../common/types';
import { PluginStatus } from './plugin-status';
import { capabilities, setPluginEnabled, statusReason } from './plugins';
import { usePlugins } from './use-plugins';
import { Icon } from '../common/icons';

/** Flips a plugin on or off, then tells the user and refreshes the list (the status changes too). */
export async function togglePlugin(plugin: Plugin, enabled: boolean, reload: () => Promise<void>): Promise<void> {
  try {
    await setPluginEnabled(plugin.id, enabled);
    notify.info(enabled ? 'Plugin enabled' : 'Plugin disabled');
  } catch (err) {
    notify.error(errorMessage(err));
  }
  await reload();
}

export function PluginsPage() {
  const { plugins, error, reload } = usePlugins();
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
              </tr>
            </thead>
            <tbody>
              {plugins.map((plugin) => (
                <tr key={plugin.id} data-id={plugin.id}>
                  <td class="id">{plugin.id}</td>
                  <td class="enabled">
                    <Switch
                      checked={plugin.enabled}
                      label={`${plugin.name} enabled`}
                      onChange={(on) => void togglePlugin(plugin, on, reload)}
                    />
                  </td>
                  <td class="name">
                    <a href={`#/plugins/${plugin.id}`}>{plugin.name}</a>
                  </td>
                  <td class="token">
                    <CopyableSecret value={plugin.token} label={`token of ${plugin.name}`} />
                  </td>
                  <td class="details">
                    <button
                      type="button"
                      class="button small details-button"
                      aria-label={`Details of ${plugin.name}`}
                      onClick={() => navigate(`/plugins/${plugin.id}`)}
                    >
                      <Icon name="gear" /> Details
                    </button>
                  </td>
                  <td class="version">{plugin.version ?? ''}</td>
                  <td class="status">
                    <PluginStatus plugin={plugin} />
                    {statusReason(plugin) && <div class="status-reason-short">{statusReason(plugin)!.split('\n')[0]}</div>}
                  </td>
                  <td class="capabilities">
                    {capabilities(plugin).length === 0 && <span class="muted">none</span>}
                    {capabilities(plugin).map((cap) => (
                      <span key={cap} class="badge capability">
                        {cap}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {plugins.length === 0 && <p class="empty">No plugins are installed. Put plugin executables in the server's plugins folder.</p>}
        </div>
      )}
    </section>
  );
}
