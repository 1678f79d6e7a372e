import path from 'node:path';
import { buildGoPlugin, GoBuildError } from '../go/build.js';
import { GoPackageError } from '../go/package.js';
import { GoMissingError } from '../go/toolchain.js';
import { parseArgs, readOptions, UsageError } from './args.js';
import type { Command } from './command.js';

export const buildGoCommand: Command = {
  name: 'build-go',
  summary: 'build a Go plugin package (Gotify\'s plugin-api or Flow\'s) into one executable, unchanged',
  usage: [
    'Usage: flow-plugin build-go <package dir> [-o <file>] [--optional]',
    '',
    'Builds a Go plugin package written for github.com/gotify/plugin-api (GetGotifyPluginInfo,',
    'NewGotifyPluginInstance) or github.com/Flow/plugin-api (GetFlowPluginInfo, NewFlowPluginInstance)',
    'into one standalone Flow plugin executable, without editing its files. Offline, in GOPATH mode,',
    'with the Go toolchain and Go packages on this machine (Debian: golang-go,',
    'golang-github-gin-gonic-gin-dev, golang-gopkg-yaml.v3-dev; more folders in FLOW_GOPATH).',
    '',
    '  -o <file>    the executable to write (default: ./flow-<folder name>)',
    '  --optional   without a Go toolchain, say so in one line and exit 0 (not when CI=true)',
    '',
    'Build cache: FLOW_GO_CACHE, default <user cache dir>/flow/go-build.',
  ].join('\n'),
  async run(args) {
    const options = readOptions(this, () => {
      const normalized = args.map((arg) => (arg === '-o' ? '--out' : arg));
      const parsed = parseArgs(normalized, ['out'], ['optional']);
      if (parsed.positional.length !== 1 || parsed.command.length > 0) throw new UsageError('give exactly one package folder');
      const dir = parsed.positional[0]!;
      return { dir, output: parsed.options.get('out') ?? `flow-${path.basename(path.resolve(dir))}`, optional: parsed.options.has('optional') };
    });
    if (!options) return 2;
    const { dir, output, optional } = options;
    try {
      const result = await buildGoPlugin(dir, output);
      process.stdout.write(`${result.output} (${result.api === 'gotify' ? 'Gotify' : 'Flow'} plugin API; capabilities: ${result.capabilities.join(', ') || 'none'})\n`);
      return 0;
    } catch (error) {
      if (error instanceof GoMissingError) {
        if (optional && process.env.CI !== 'true') {
          process.stderr.write(`flow-plugin build-go: skipped ${path.basename(path.resolve(dir))} (the Go suite will not run): ${error.message}\n`);
          return 0;
        }
        process.stderr.write(`flow-plugin build-go: ${error.message}\n`);
        return 1;
      }
      if (error instanceof GoBuildError || error instanceof GoPackageError) {
        process.stderr.write(`flow-plugin build-go: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
  },
};
