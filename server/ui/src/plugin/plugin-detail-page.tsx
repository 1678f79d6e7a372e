import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../common/api';
import { copyText } from '../common/clipboard';
import { CopyableSecret } from '../common/copyable-secret';
import { fullDate } from '../common/date';
import { LoadState } from '../common/load-state';
import { renderMarkdown } from '../common/markdown';
import { notify } from '../common/notify';
import { useStore } from '../common/store';
import { Switch } from '../common/switch';
import { session } from '../session/session';
import type { Plugin } from '../common/types';
import { Configurer } from './configurer';
import { PluginStatus } from './plugin-status';
import { ProcessPanel } from './process-panel';
import { togglePlugin } from './toggle-plugin';
import {
  capabilities,
  getPluginDisplay,
  statusReason,
  webhookBase,
} from './plugins';
import { usePlugins } from './use-plugins';
import { navigate } from '../common/router';
import { PathText } from '../common/path-text';
import { PermissionSelect } from './permission-select';
import { usePluginPermissions } from './use-permissions';
import { Icon } from '../common/icons';

/** One line of the info panel. The value is the row's only `<span>`, as Gotify's `.plugin-info .x > span`. */
function InfoRow({ name, label, children }: { name: string; label: string; children: ComponentChildren }) {
  return (
    <div class={`info-row ${name}`}>
      <strong class="info-label">{label}</strong>
      <span>{children}</span>
    </div>
  );
}

function PluginInfo({ plugin }: { plugin: Plugin }) {
  const caps = capabilities(plugin);
  const reason = statusReason(plugin);
  const hookBase = webhookBase(plugin);
  const copyHook = async () => {
    try {
      await copyText(hookBase);
      notify.info('Copied to clipboard');
    } catch (err) {
      notify.error(errorMessage(err));
    }
  };
  return (
    <div class="card panel plugin-info">
      <h2 class="panel-title">Plugin info</h2>
      <InfoRow name="name" label="Name">{plugin.name}</InfoRow>
      {plugin.version && <InfoRow name="version" label="Version">{plugin.version}</InfoRow>}
      {plugin.description && <InfoRow name="description" label="Description">{plugin.description}</InfoRow>}
      {plugin.author && <InfoRow name="author" label="Author">{plugin.author}</InfoRow>}
      {plugin.website && (
        <InfoRow name="website" label="Website">
          <a href={/^https?:\/\//i.test(plugin.website) ? plugin.website : `https://${plugin.website}`} target="_blank" rel="noopener noreferrer">
            {plugin.website}
          </a>
        </InfoRow>
      )}
      {plugin.license && <InfoRow name="license" label="License">{plugin.license}</InfoRow>}
      <InfoRow name="module-path" label="Module path"><PathText text={plugin.modulePath} /></InfoRow>
      <InfoRow name="capabilities" label="Capabilities">{caps.length > 0 ? caps.join(', ') : 'none'}</InfoRow>
      <div class="info-row status">
        <strong class="info-label">Status</strong>
        <span>
          <PluginStatus plugin={plugin} />
        </span>
      </div>
      {reason && (
        <div class="info-row status-reason">
          <strong class="info-label">Last error</strong>
          <pre class="error-text" role="status">
            {reason}
          </pre>
        </div>
      )}
      <div class="info-row token">
        <strong class="info-label">Token</strong>
        <CopyableSecret value={plugin.token} label="plugin token" />
      </div>
      {plugin.createdAt && <InfoRow name="created" label="Installed">{fullDate(plugin.createdAt)}</InfoRow>}
      {caps.includes('webhooker') && (
        <div class="info-row webhook">
          <strong class="info-label">Webhook base URL</strong>
          <span class="webhook-url">
            <a href={hookBase} target="_blank" rel="noopener noreferrer">
              <PathText text={hookBase} />
            </a>
          </span>
          <button type="button" class="icon-button copy-webhook" aria-label="Copy webhook base URL" title="Copy" onClick={copyHook}>
            <Icon name="copy" />
          </button>
        </div>
      )}
    </div>
  );
}

function Displayer({ plugin, revision }: { plugin: Plugin; revision: number }) {
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      setHtml(renderMarkdown(await getPluginDisplay(plugin.id)));
    } catch (err) {
      setError(err);
    }
  }, [plugin.id]);
  useEffect(() => void load(), [load, revision]);

  return (
    <div class="card panel displayer-panel">
      <div class="panel-header">
        <h2 class="panel-title">Display</h2>
        <button type="button" class="button small display-refresh" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <LoadState loading={html === null && !error} error={error} onRetry={() => void load()} />
      {html !== null && <div class="displayer markdown" dangerouslySetInnerHTML={{ __html: html }} />}
    </div>
  );
}

/**
 * Admins: who may use this plugin. Hidden when the server has no permissions endpoint (404). A plugin set to
 * "nobody" disappears from every list, this admin's included: the page then leads back to the plugins list.
 */
function PermissionPanel({ plugin, onChanged }: { plugin: Plugin; onChanged: () => void }) {
  const { permissions, saving, set } = usePluginPermissions(true);
  const item = permissions?.get(plugin.modulePath);
  if (!item) return null;
  return (
    <div class="card panel permission-panel">
      <div class="panel-header">
        <h2 class="panel-title">
          <label for="plugin-permission">Who may use it</label>
        </h2>
        <PermissionSelect
          id="plugin-permission"
          pluginName={plugin.name}
          value={item.permission}
          disabled={saving === plugin.modulePath}
          onChange={(value) => {
            void set(plugin.modulePath, value).then(() => {
              if (value === 'nobody') navigate('/plugins');
              else onChanged();
            });
          }}
        />
      </div>
      <p class="panel-help">
        {item.permission === 'everyone' && 'Every user sees this plugin and can enable it for themselves.'}
        {item.permission === 'admins' && 'Only administrators see this plugin; other users get “not found” for it and its webhooks.'}
        {item.permission === 'nobody' && 'Nobody can use this plugin; it is hidden from every list.'}
      </p>
    </div>
  );
}

export function PluginDetailPage({ id }: { id: number }) {
  const { plugins, error, reload } = usePlugins();
  const current = useStore(session);
  const isAdmin = current.state === 'loggedIn' && current.user.admin;
  const [displayRevision, setDisplayRevision] = useState(0);
  const [toggling, setToggling] = useState(false);
  const plugin = plugins?.find((p) => p.id === id);

  if (!plugin) {
    return (
      <section class="page plugin-detail-page">
        <div class="page-header">
          <h4>Plugin</h4>
        </div>
        <LoadState loading={plugins === null} error={error} onRetry={() => void reload()} />
        {plugins && (
          <div class="error-box" role="alert">
            There is no plugin with id {id}. <a href="#/plugins">Back to the plugins</a>
          </div>
        )}
      </section>
    );
  }

  const caps = capabilities(plugin);
  return (
    <section class="page plugin-detail-page">
      <p class="breadcrumb">
        <a href="#/plugins">Plugins</a> ›
      </p>
      <div class="page-header">
        <h4>{plugin.name}</h4>
        <div class="page-actions">
          <PluginStatus plugin={plugin} />
          <label class="switch-label">
            <Switch
              checked={plugin.enabled}
              label={`${plugin.name} enabled`}
              disabled={toggling}
              onChange={(on) => {
                setToggling(true);
                void togglePlugin(plugin, on, reload).finally(() => {
                  setToggling(false);
                  setDisplayRevision((r) => r + 1);
                });
              }}
            />
            <span aria-hidden="true">{plugin.enabled ? 'Enabled' : 'Disabled'}</span>
          </label>
        </div>
      </div>
      {plugin.description && <p class="page-subtitle">{plugin.description}</p>}
      {!plugin.enabled && (
        <p class="notice-box disabled-note">
          This plugin is disabled for you: it sends you no messages and its webhook links answer “plugin is disabled”.
          Turn it on with the switch above.
        </p>
      )}
      <div class={`detail-grid${isAdmin ? ' with-process' : ''}`}>
        <PluginInfo plugin={plugin} />
        {isAdmin && (
          <ProcessPanel
            plugin={plugin}
            revision={displayRevision}
            onRestarted={() => {
              void reload();
              setDisplayRevision((r) => r + 1);
            }}
          />
        )}
        {isAdmin && <PermissionPanel plugin={plugin} onChanged={() => void reload()} />}
        {/* Below the info and across the whole width: displays are often tables. */}
        {caps.includes('displayer') && <Displayer plugin={plugin} revision={displayRevision} />}
        {caps.includes('configurer') && (
          <Configurer
            plugin={plugin}
            onSaved={() => {
              void reload();
              setDisplayRevision((r) => r + 1);
            }}
          />
        )}
      </div>
    </section>
  );
}
