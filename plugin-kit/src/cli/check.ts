import { TranscriptError } from '@flow/protocol';
import { readFile } from 'node:fs/promises';
import { CONFORMANCE_DIR, conformanceCaseNames, conformanceOk, formatConformance, parseExpectedFailures, runConformance } from '../replay/conformance.js';
import { UsageError, msOption, parseArgs, readOptions } from './args.js';
import type { Command } from './command.js';

/** Runs the conformance kit (spec/conformance/) against a plugin and prints a pass/fail table. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'run the protocol conformance kit against a plugin (pass/fail table; exit 0 only if all pass)',
  usage: [
    'Usage: flow-plugin check [--only NAME,...] [--expected-failures FILE] [--dir DIR] [--step-timeout MS] -- <plugin command> [args...]',
    '',
    'Replays every conformance transcript (handshake, version mismatch, unknown method, unknown',
    'instance, cancellation, shutdown, stdin EOF, stdout hygiene), then runs the live cases: every',
    'bad input of spec 2.5, NotInitialized, a second initialize, id 0, config in YAML and JSON form',
    '(configurers), ping while a host call is slow, a cancelled webhook, 64 concurrent webhooks',
    '(webhookers) and shutdown with calls in flight. Each case gets a fresh process of the plugin;',
    'a case for a capability the plugin does not declare is N/A.',
    '',
    `  --dir DIR                 transcripts to run instead of the kit's (no live cases then; default ${CONFORMANCE_DIR})`,
    '  --only NAME,...           run only these cases (names as printed in the table)',
    '  --expected-failures FILE  known failures, one case name per line (# comments): they are reported',
    '                            XFAL and do not fail the run; one that passes fails the run (XPAS) so the',
    '                            file shrinks; a name that is not a case is a usage error',
    '  --step-timeout MS         longest wait for each expected message (default 5000); the requests of the',
    '                            live cases, the handshake\'s included, wait this long but at least 10000',
    '',
    'Exit: 0 all pass (or fail as the baseline says); 1 any other failure; 2 usage error.',
    '',
    'Example: flow-plugin check -- python3 my_plugin.py',
  ].join('\n'),
  async run(args) {
    const options = readOptions(this, () => {
      const parsed = parseArgs(args, ['only', 'dir', 'step-timeout', 'expected-failures']);
      if (parsed.command.length === 0 || parsed.positional.length > 0) throw new UsageError('need -- and the plugin command');
      return { parsed, stepTimeoutMs: msOption(parsed, 'step-timeout') };
    });
    if (!options) return 2;
    const { parsed, stepTimeoutMs } = options;
    const only = parsed.options.get('only')?.split(',').filter(Boolean);
    let expected: string[] = [];
    const baseline = parsed.options.get('expected-failures');
    try {
      if (baseline !== undefined) expected = parseExpectedFailures(await readFile(baseline, 'utf8'), await conformanceCaseNames(parsed.options.get('dir')));
    } catch (error) {
      process.stderr.write(`flow-plugin check: --expected-failures ${baseline}: ${(error as Error).message}\n`);
      return 2;
    }
    try {
      const cases = (await runConformance(parsed.command, { stepTimeoutMs, dir: parsed.options.get('dir'), only })).map((c) => (expected.includes(c.name) ? { ...c, expectedFailure: true } : c));
      if (cases.length === 0) {
        process.stderr.write('flow-plugin check: no conformance transcript matched\n');
        return 2;
      }
      process.stdout.write(formatConformance(parsed.command, cases));
      return conformanceOk(cases) ? 0 : 1;
    } catch (error) {
      if (error instanceof TranscriptError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stderr.write(`flow-plugin check: ${(error as Error).message}\n`);
        return 2;
      }
      throw error;
    }
  },
};
