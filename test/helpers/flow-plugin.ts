/** Runs the built `flow-plugin` CLI (plugin-kit/dist/cli/main.js) the way a plugin author would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const FLOW_PLUGIN_CLI = fileURLToPath(new URL('../../plugin-kit/dist/cli/main.js', import.meta.url));
export const SCRIPTED_PLUGIN = fileURLToPath(new URL('../fixtures/replay/scripted.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function flowPlugin(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLOW_PLUGIN_CLI, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
