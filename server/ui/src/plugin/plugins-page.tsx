import { useState } from 'preact/hooks';
import { CopyableSecret } from '../common/copyable-secret';
import { LoadState } from '../common/load-state';
import { navigate } from '../common/router';
import { Switch } from '../common/switch';
import { PluginStatus } from './plugin-status';
import { capabilities, statusReason } from './plugins';
import { togglePlugin } from './toggle-plugin';
import { usePlugins } from './use-plugins';
import { Icon } from '../common/icons';

export function PluginsPage() {
  const { plugins, error, reload } = usePlugins();
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
                      disabled={busy === plugin.id}
                      onChange={(on) => {
                        setBusy(plugin.id);
                        void togglePlugin(plugin, on, reload).finally(() => setBusy(null));
                      }}
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
                      Details <Icon name="chevron" />
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
