import { runFakePlugin } from '../replay/fake.js';
import { UsageError, msOption, parseArgs, readOptions } from './args.js';
import type { Command } from './command.js';
import { readTranscriptFile } from './transcript-file.js';

/** A plugin executable that plays the plugin side of a transcript, to test a host. */
export const fakeCommand: Command = {
  name: 'fake',
  summary: 'act as a plugin that plays the plugin side of a transcript (checks what a host sends)',
  usage: [
    'Usage: flow-plugin fake --transcript FILE [--report FILE] [--step-timeout MS]',
    '',
    'Run by a Flow host as a plugin (e.g. from a plugin.yaml manifest). It answers the host from',
    'the transcript and checks that the host sends the same calls in the same per-instance',
    'order. The verdict goes to --report as JSON ({ok, failure?, steps, total}; an existing file is',
    'kept, so a restarted fake cannot hide the first verdict) and, on a',
    'mismatch, to stderr; the exit code is 1 after a mismatch.',
    '',
    '  --step-timeout MS   longest wait for the host\'s next expected call (default 30000)',
  ].join('\n'),
  async run(args) {
    const options = readOptions(this, () => {
      const parsed = parseArgs(args, ['transcript', 'report', 'step-timeout']);
      const file = parsed.options.get('transcript');
      if (!file || parsed.positional.length > 0 || parsed.command.length > 0) throw new UsageError('need --transcript FILE');
      return { file, reportFile: parsed.options.get('report'), stepTimeoutMs: msOption(parsed, 'step-timeout') };
    });
    if (!options) return 2;
    const transcript = await readTranscriptFile(this.name, options.file);
    if (!transcript) return 2;
    const code = await runFakePlugin(transcript, { reportFile: options.reportFile, stepTimeoutMs: options.stepTimeoutMs });
    // The host may keep our stdin open after `exit`; a plugin ends when it is told to.
    process.exit(code);
  },
};
