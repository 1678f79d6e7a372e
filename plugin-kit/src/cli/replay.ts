import { replayAgainstPlugin } from '../replay/against-plugin.js';
import { UsageError, msOption, parseArgs, readOptions } from './args.js';
import type { Command } from './command.js';
import { readTranscriptFile } from './transcript-file.js';

/** Plays the host side of a transcript to a plugin and compares what the plugin says. */
export const replayCommand: Command = {
  name: 'replay',
  summary: 'play a recorded session to a plugin and diff its answers (exit 0 equal, 1 different, 2 bad input)',
  usage: [
    'Usage: flow-plugin replay [--step-timeout MS] <transcript.jsonl> -- <plugin command> [args...]',
    '',
    'Plays the host side of the transcript to the plugin (any language), answers its storage,',
    'message and log calls from the transcript, and compares everything it sends with the',
    'recording, up to the volatile values the transcript declares.',
    '',
    '  --step-timeout MS   longest wait for the plugin\'s next expected message (default 5000)',
    '',
    'Exit: 0 equal; 1 the plugin differs, hangs, crashes or answers out of order (a diff naming the',
    'transcript line is printed); 2 usage error or unreadable transcript.',
    '',
    'Example: flow-plugin replay test/golden/echo.jsonl -- ./flow-echo.mjs',
  ].join('\n'),
  async run(args) {
    const options = readOptions(this, () => {
      const parsed = parseArgs(args, ['step-timeout']);
      if (parsed.positional.length !== 1 || parsed.command.length === 0) throw new UsageError('need one transcript file, then -- and the plugin command');
      return { transcriptFile: parsed.positional[0]!, command: parsed.command, stepTimeoutMs: msOption(parsed, 'step-timeout') };
    });
    if (!options) return 2;
    const { transcriptFile, command, stepTimeoutMs } = options;
    const transcript = await readTranscriptFile(this.name, transcriptFile);
    if (!transcript) return 2;
    const result = await replayAgainstPlugin(transcript, command, { stepTimeoutMs });
    if (result.ok) {
      process.stdout.write(`${transcriptFile}: ${result.total} entries replayed, the plugin matches the transcript\n`);
      return 0;
    }
    process.stderr.write(`${transcriptFile}: ${result.failure?.message}\n\n${result.steps}/${result.total} entries matched before this.\n`);
    return 1;
  },
};
