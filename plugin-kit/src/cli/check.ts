import { TranscriptError } from '@flow/protocol';
import { CONFORMANCE_DIR, formatConformance, runConformance } from '../replay/conformance.js';
import { UsageError, msOption, parseArgs } from './args.js';
import type { Command } from './command.js';

/** Runs the conformance kit (spec/conformance/) against a plugin and prints a pass/fail table. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'run the protocol v1 conformance kit against a plugin (pass/fail table; exit 0 only if all pass)',
  usage: [
    'Usage: flow-plugin check [--only NAME,...] [--dir DIR] [--step-timeout MS] -- <plugin command> [args...]',
    '',
    'Replays every conformance transcript (handshake, version mismatch, unknown method, unknown',
    'instance, cancellation, shutdown, stdin EOF, stdout hygiene) against a fresh process of the',
    'plugin. They use only lifecycle methods, instance/create and instance/destroy, ping and',
    'plugin/info, so they fit every plugin.',
    '',
    `  --dir DIR           transcripts to run (default ${CONFORMANCE_DIR})`,
    '  --only NAME,...     run only these cases (names as printed in the table)',
    '  --step-timeout MS   longest wait for each expected message (default 5000)',
    '',
    'Exit: 0 all pass; 1 any failure; 2 usage error.',
    '',
    'Example: flow-plugin check -- python3 my_plugin.py',
  ].join('\n'),
  async run(args) {
    let parsed;
    let stepTimeoutMs: number | undefined;
    try {
      parsed = parseArgs(args, ['only', 'dir', 'step-timeout']);
      if (parsed.command.length === 0 || parsed.positional.length > 0) throw new UsageError('need -- and the plugin command');
      stepTimeoutMs = msOption(parsed, 'step-timeout');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`flow-plugin check: ${error.message}\n\n${this.usage}\n`);
      return 2;
    }
    const only = parsed.options.get('only')?.split(',').filter(Boolean);
    try {
      const cases = await runConformance(parsed.command, { stepTimeoutMs, dir: parsed.options.get('dir'), only });
      if (cases.length === 0) {
        process.stderr.write('flow-plugin check: no conformance transcript matched\n');
        return 2;
      }
      process.stdout.write(formatConformance(parsed.command, cases));
      return cases.every((c) => c.ok) ? 0 : 1;
    } catch (error) {
      if (error instanceof TranscriptError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stderr.write(`flow-plugin check: ${(error as Error).message}\n`);
        return 2;
      }
      throw error;
    }
  },
};
