import { request } from '../common/api';
import { baseUrl } from '../common/base-url';
import type { Plugin, PluginProcess } from '../common/types';

export function listPlugins(): Promise<Plugin[]> {
  return request<Plugin[]>('GET', 'plugin');
}

export async function setPluginEnabled(id: number, enabled: boolean): Promise<void> {
  await request('POST', `plugin/${id}/${enabled ? 'enable' : 'disable'}`);
}

/** The stored YAML text, byte for byte (comments and formatting included). */
export function getPluginConfig(id: number): Promise<string> {
  return request<string>('GET', `plugin/${id}/config`, { asText: true });
}

/** Rejections (bad YAML, refused by the plugin) come back as a 400 whose description is the reason. */
export async function savePluginConfig(id: number, yaml: string): Promise<void> {
  await request('POST', `plugin/${id}/config`, { text: yaml, contentType: 'application/x-yaml' });
}

export async function getPluginDisplay(id: number): Promise<string> {
  return (await request<string>('GET', `plugin/${id}/display`)) ?? '';
}

/**
 * Where the plugin's webhooks live, built from the page's own URL (as Gotify's "Custom Route Prefix"),
 * so it is right behind a reverse proxy even though the plugin itself does not know the proxy's sub-path.
 */
export function webhookBase(plugin: Plugin): string {
  return `${baseUrl()}plugin/${plugin.id}/custom/${plugin.token}/`;
}

/** Why the plugin is not running, under whichever name the host reports it. */
export function statusReason(plugin: Plugin): string | undefined {
  return plugin.statusReason || undefined;
}

export function capabilities(plugin: Plugin): string[] {
  return plugin.capabilities ?? [];
}

/** States that change by themselves shortly: pages poll while a plugin is in one. */
export function isTransient(plugin: Plugin): boolean {
  return plugin.status === 'starting' || plugin.status === 'restarting';
}

/** Admin only: every plugin process with pid, uptime, restarts, last error and recent stderr. */
export function listPluginProcesses(): Promise<PluginProcess[]> {
  return request<PluginProcess[]>('GET', 'plugin/admin/processes');
}

/** Admin only: restarts a plugin's process (also clears `failed` and `incompatible`). */
export async function restartPluginProcess(name: string): Promise<void> {
  await request('POST', `plugin/admin/processes/${encodeURIComponent(name)}/restart`);
}
