import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage } from '../common/api';
import { LoadState } from '../common/load-state';
import { notify } from '../common/notify';
import type { Plugin } from '../common/types';
import { ConfigEditor } from './config-editor';
import { getConfigSchema, hasField, issuesOf, type ConfigIssue, type JsonSchema, type PathSegment } from './config-schema';
import { getPluginConfig, savePluginConfig } from './plugins';
import { SchemaForm, type FormEdits } from './schema-form';

type YamlModule = typeof import('./yaml-document');
type Mode = 'form' | 'yaml';

/** The YAML editor with the list of issues that have no field to sit next to (or all of them, in YAML mode). */
function IssueList({ issues, title }: { issues: ConfigIssue[]; title: string }) {
  if (issues.length === 0) return null;
  return (
    <div class="issue-list" role="alert">
      <p>{title}</p>
      <ul>
        {issues.map((issue, i) => (
          <li key={i}>
            {issue.path !== '' && <code>{issue.path}</code>} {issue.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The plugin's configuration. With a JSON Schema (`GET /plugin/:id/configschema`) it is a generated form, with
 * the YAML editor one click away; both edit the same YAML text, so they stay in step. Without one (404), only
 * the YAML editor. A rejected save keeps the text and shows each of the server's `issues` next to its field.
 */
export function Configurer({ plugin, onSaved }: { plugin: Plugin; onSaved: () => void }) {
  const [loaded, setLoaded] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [revision, setRevision] = useState(0);
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [yamlModule, setYamlModule] = useState<YamlModule | null>(null);
  const [mode, setMode] = useState<Mode>('form');
  const [loadError, setLoadError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [issues, setIssues] = useState<ConfigIssue[]>([]);
  const [saving, setSaving] = useState(false);

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      const [config, configSchema] = await Promise.all([getPluginConfig(plugin.id), getConfigSchema(plugin.id)]);
      if (configSchema) setYamlModule(await import('./yaml-document'));
      setSchema(configSchema);
      setLoaded(config);
      setText(config);
      setSaveError(null);
      setIssues([]);
      setRevision((r) => r + 1);
    } catch (err) {
      setLoadError(err);
    }
  }, [plugin.id]);
  useEffect(() => void load(), [load]);

  const parsed = useMemo(() => (yamlModule ? yamlModule.parseConfig(text) : null), [yamlModule, text]);

  const edits: FormEdits | null = useMemo(() => {
    if (!yamlModule) return null;
    const apply = (change: (current: string) => string) =>
      setText((current) => {
        try {
          return change(current);
        } catch (err) {
          notify.error(errorMessage(err));
          return current;
        }
      });
    return {
      set: (path: PathSegment[], value: unknown) => apply((t) => yamlModule.setIn(t, path, value)),
      remove: (path: PathSegment[]) => apply((t) => yamlModule.removeIn(t, path)),
      append: (path: PathSegment[], value: unknown) => apply((t) => yamlModule.appendIn(t, path, value)),
    };
  }, [yamlModule]);

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    setIssues([]);
    try {
      await savePluginConfig(plugin.id, text);
      setLoaded(text);
      notify.info('Plugin config updated');
      onSaved();
    } catch (err) {
      // The user's text stays untouched, so they can fix it rather than retype it.
      setSaveError(errorMessage(err));
      setIssues(issuesOf(err));
    } finally {
      setSaving(false);
    }
  };

  const dirty = loaded !== null && text !== loaded;
  const withForm = schema !== null && edits !== null;
  const showForm = withForm && mode === 'form';
  const unplaced = withForm ? issues.filter((issue) => !hasField(schema, issue.path)) : issues;
  const tabId = (m: Mode) => `config-tab-${m}-${plugin.id}`;

  return (
    <div class="card panel configurer">
      <div class="panel-header">
        <h2 class="panel-title">Configuration</h2>
        {dirty && <span class="badge unsaved">unsaved changes</span>}
      </div>
      <p class="panel-help">
        {withForm
          ? 'The form and the YAML edit the same configuration. The server checks it against the plugin’s schema when you save; a rejected configuration changes nothing.'
          : 'YAML. The plugin validates it when you save; a rejected configuration changes nothing.'}
      </p>
      <LoadState loading={loaded === null && !loadError} error={loadError} onRetry={() => void load()} />
      {withForm && loaded !== null && (
        <div class="tabs" role="tablist" aria-label="Edit the configuration as">
          {(['form', 'yaml'] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              id={tabId(m)}
              class={`tab config-tab-${m}`}
              aria-selected={mode === m}
              aria-controls={`${tabId(m)}-panel`}
              tabIndex={mode === m ? 0 : -1}
              onClick={() => setMode(m)}
              onKeyDown={(e) => {
                // Arrow keys move between tabs, as in every tab list.
                if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                  const other: Mode = m === 'form' ? 'yaml' : 'form';
                  setMode(other);
                  document.getElementById(tabId(other))?.focus();
                }
              }}
            >
              {m === 'form' ? 'Form' : 'YAML'}
            </button>
          ))}
        </div>
      )}
      {withForm && loaded !== null && (
        <div role="tabpanel" id={`${tabId('form')}-panel`} aria-labelledby={tabId('form')} hidden={!showForm} class="config-form-panel">
          <IssueList issues={unplaced} title="The server refused the configuration:" />
          {parsed?.error ? (
            <div class="error-box yaml-broken" role="alert">
              <span>The YAML has an error, so the form cannot show it: {parsed.error}</span>
              <button type="button" class="button" onClick={() => setMode('yaml')}>
                Fix it in YAML
              </button>
            </div>
          ) : (
            <SchemaForm schema={schema} value={parsed?.value} issues={issues} edits={edits} disabled={saving} />
          )}
        </div>
      )}
      {loaded !== null && (
        <div
          role={withForm ? 'tabpanel' : undefined}
          id={`${tabId('yaml')}-panel`}
          aria-labelledby={withForm ? tabId('yaml') : undefined}
          hidden={showForm}
          class="config-yaml-panel"
        >
          <ConfigEditor text={text} revision={revision} onChange={setText} label={`Configuration of ${plugin.name}`} />
          <IssueList issues={issues} title="The server refused the configuration:" />
        </div>
      )}
      {saveError && (
        <p class="form-error config-error" role="alert">
          {saveError}
        </p>
      )}
      <div class="panel-actions">
        <button type="button" class="button config-reload" onClick={() => void load()}>
          Reload
        </button>
        <button type="button" class="button primary config-save" disabled={!dirty || saving} onClick={() => void save()}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </div>
  );
}
