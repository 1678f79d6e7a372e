import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../common/api';
import { LoadState } from '../common/load-state';
import { PathText } from '../common/path-text';
import { notify } from '../common/notify';
import type { Plugin, PluginProcess } from '../common/types';
import { listPluginProcesses, restartPluginProcess } from './plugins';

function uptime(seconds: number | null): string {
  if (seconds === null) return 'not running';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`;
}

interface ProcessPanelProps {
  plugin: Plugin;
  /** Bumped by the page after a change that may restart the process. */
  revision: number;
  onRestarted: () => void;
}

/**
 * Admins only: the plugin's process as the host supervises it (pid, uptime, restarts, last error and
 * its latest stderr lines), with a Restart button, the way out of `failed` after fixing the cause.
 */
export function ProcessPanel({ plugin, revision, onRestarted }: ProcessPanelProps) {
  const [process, setProcess] = useState<PluginProcess | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const list = await listPluginProcesses();
      setProcess(list.find((p) => p.modulePath === plugin.modulePath) ?? null);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [plugin.modulePath]);
  useEffect(() => void load(), [load, revision, plugin.status]);

  const restart = async () => {
    if (!process) return;
    setBusy(true);
    try {
      await restartPluginProcess(process.name);
      notify.info('Plugin restarted');
      onRestarted();
      await load();
    } catch (err) {
      notify.error(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="card panel process-panel">
      <div class="panel-header">
        <h2 class="panel-title">Process</h2>
        <button type="button" class="button small restart-plugin" disabled={!process || busy} onClick={() => void restart()}>
          Restart
        </button>
      </div>
      <p class="panel-help">Shown to administrators: the plugin process serves every user.</p>
      <LoadState loading={process === undefined && !error} error={error} onRetry={() => void load()} />
      {process === null && <p class="empty">The host reports no process for this plugin.</p>}
      {process && (
        <>
          <div class="info-row file">
            <strong class="info-label">File</strong>
            <span>
              <PathText text={process.path} />
            </span>
          </div>
          <div class="info-row pid">
            <strong class="info-label">PID</strong>
            <span>{process.pid ?? '–'}</span>
          </div>
          <div class="info-row uptime">
            <strong class="info-label">Uptime</strong>
            <span>{uptime(process.uptimeSeconds)}</span>
          </div>
          <div class="info-row restarts">
            <strong class="info-label">Restarts</strong>
            <span>{process.restarts}</span>
          </div>
          <div class="info-row instances">
            <strong class="info-label">Instances</strong>
            <span>{process.instances}</span>
          </div>
          {process.lastError && (
            <div class="info-row last-error">
              <strong class="info-label">Last error</strong>
              <pre class="error-text">{process.lastError}</pre>
            </div>
          )}
          {process.stderr.length > 0 && (
            <details class="stderr">
              <summary>Recent output ({process.stderr.length} lines)</summary>
              <pre class="stderr-lines">{process.stderr.join('\n')}</pre>
            </details>
          )}
        </>
      )}
    </div>
  );
}
