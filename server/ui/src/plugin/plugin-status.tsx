import type { Plugin } from '../common/types';
import { statusReason } from './plugins';

const LABELS: Record<string, string> = {
  running: 'running',
  starting: 'starting…',
  restarting: 'restarting…',
  failed: 'failed',
  incompatible: 'incompatible',
};

/** A coloured badge for the plugin process state, with the reason as a tooltip. */
export function PluginStatus({ plugin }: { plugin: Plugin }) {
  const status = plugin.status ?? 'running';
  return (
    <span class={`badge status status-${status}`} title={statusReason(plugin) ?? ''} data-status={status}>
      {LABELS[status] ?? status}
    </span>
  );
}
