import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from './command.js';

/**
 * ESM bundles cannot `require`, but CommonJS dependencies (vscode-jsonrpc, yaml) do: give the
 * bundle a real `require` so Node built-ins load. The shebang makes the file an executable.
 */
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __flowCreateRequire } from 'node:module';",
  'const require = __flowCreateRequire(import.meta.url);',
].join('\n');

export const bundleCommand: Command = {
  name: 'bundle',
  summary: 'bundle a plugin entry point into one executable .mjs file (needs esbuild)',
  usage: [
    'Usage: flow-plugin bundle <entry.ts> <out.mjs>',
    '',
    'Bundles the entry point and everything it imports (the kit included) into one file with a',
    '#!/usr/bin/env node line and mode 755, ready to copy into a Flow plugins folder.',
  ].join('\n'),
  async run(args) {
    const [entry, outfile] = args;
    if (!entry || !outfile || args.length > 2) {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch {
      process.stderr.write('flow-plugin bundle: esbuild is not installed; add it: npm install --save-dev --save-exact esbuild@0.28.2\n');
      return 1;
    }
    await mkdir(dirname(outfile), { recursive: true });
    const result = await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      banner: { js: BANNER },
      legalComments: 'none',
      logLevel: 'warning',
    });
    if (result.errors.length > 0) return 1;
    await chmod(outfile, 0o755);
    process.stdout.write(`${outfile}\n`);
    return 0;
  },
};
