/**
 * The command line of every plugin in plugins/, found on disk so that a new plugin is picked up
 * by the conformance and golden tests without editing them: a bundled `dist/flow-<name>.mjs`
 * runs with node, a folder with a top-level `<name>.py` runs with python3.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PLUGINS_DIR = fileURLToPath(new URL('../../plugins/', import.meta.url));

export interface PluginCommand {
  name: string;
  /** Undefined when the plugin has no runnable entry (not built, or an unknown layout). */
  command: string[] | undefined;
}

export function pluginCommands(): PluginCommand[] {
  return readdirSync(PLUGINS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(PLUGINS_DIR, entry.name, 'package.json')))
    .map((entry) => ({ name: entry.name, command: commandOf(entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function commandOf(name: string): string[] | undefined {
  const bundle = path.join(PLUGINS_DIR, name, 'dist', `flow-${name}.mjs`);
  if (existsSync(bundle)) return [process.execPath, bundle];
  const python = path.join(PLUGINS_DIR, name, `${name}.py`);
  if (existsSync(python)) return ['python3', python];
  return undefined;
}
