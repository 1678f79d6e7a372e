/**
 * The command line of every plugin in plugins/, found on disk so that a new plugin is picked up
 * by the conformance and golden tests without editing them: a bundled `dist/flow-<name>.mjs`
 * runs with node, a bundled Python kit plugin's `dist/flow-<name>.pyz` (python3 -m flow_plugin.bundle)
 * and a folder with a top-level `<name>.py` run with python3, a Go package's
 * `dist/flow-<name>` (flow-plugin build-go) runs as is. Go plugins are left out when the Go
 * suite does not run on this machine (test/helpers/go.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GO_SUITE_RUNS, isGoPackage } from './go.js';

export const PLUGINS_DIR = fileURLToPath(new URL('../../plugins/', import.meta.url));

/**
 * The interpreter `python3` runs, resolved once: a version manager's shim (pyenv's is a bash script)
 * costs about a second per start on a loaded machine, and the conformance kit starts the plugin
 * dozens of times. Same interpreter, so nothing about the check changes.
 */
export const PYTHON = ((): string => {
  const found = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const executable = found.status === 0 ? found.stdout.trim() : '';
  return executable && existsSync(executable) ? executable : 'python3';
})();

export interface PluginCommand {
  name: string;
  /** Undefined when the plugin has no runnable entry (not built, or an unknown layout). */
  command: string[] | undefined;
}

export function pluginCommands(): PluginCommand[] {
  return readdirSync(PLUGINS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(PLUGINS_DIR, entry.name, 'package.json')))
    .filter((entry) => GO_SUITE_RUNS || !isGoPackage(path.join(PLUGINS_DIR, entry.name)))
    .map((entry) => ({ name: entry.name, command: commandOf(entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function commandOf(name: string): string[] | undefined {
  const bundle = path.join(PLUGINS_DIR, name, 'dist', `flow-${name}.mjs`);
  if (existsSync(bundle)) return [process.execPath, bundle];
  const zipApp = path.join(PLUGINS_DIR, name, 'dist', `flow-${name}.pyz`);
  if (existsSync(zipApp)) return [PYTHON, zipApp];
  const goExecutable = path.join(PLUGINS_DIR, name, 'dist', `flow-${name}`);
  if (isGoPackage(path.join(PLUGINS_DIR, name))) return existsSync(goExecutable) ? [goExecutable] : undefined;
  const python = path.join(PLUGINS_DIR, name, `${name}.py`);
  if (existsSync(python)) return [PYTHON, python];
  return undefined;
}
