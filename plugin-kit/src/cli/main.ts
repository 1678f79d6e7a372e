#!/usr/bin/env node
/**
 * `flow-plugin <command> [args]`: tools for plugin authors. Each command is one file in this
 * folder exporting a Command; add one by adding it to COMMANDS.
 */
import { bundleCommand } from './bundle.js';
import { buildGoCommand } from './build-go.js';
import { checkCommand } from './check.js';
import { fakeCommand } from './fake.js';
import { infoCommand } from './info.js';
import { recordCommand } from './record.js';
import { replayCommand } from './replay.js';
import type { Command } from './command.js';

export type { Command } from './command.js';

const COMMANDS: readonly Command[] = [infoCommand, checkCommand, replayCommand, recordCommand, fakeCommand, bundleCommand, buildGoCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'Usage: flow-plugin <command> [args]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Run "flow-plugin <command> --help" for a command\'s usage.',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`flow-plugin: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`flow-plugin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
