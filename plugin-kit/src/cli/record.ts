import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { FrameDecoder, TranscriptRecorder } from '@flow/protocol';
import { parse as parseYaml } from 'yaml';
import { UsageError, parseArgs, readOptions } from './args.js';
import type { Command } from './command.js';

/**
 * A transparent proxy between a host and a plugin that writes the session to a transcript:
 * put `flow-plugin record --out x.jsonl -- <plugin>` wherever a plugin command goes (a server's
 * plugin.yaml, the kit's test host). Bytes pass through unchanged; only the copy is redacted.
 */
export const recordCommand: Command = {
  name: 'record',
  summary: 'run a plugin behind a recording proxy: every message is written to a transcript',
  usage: [
    'Usage: flow-plugin record --out FILE [--description TEXT] -- <plugin command> [args...]',
    '',
    'Launched by a host in place of the plugin; passes stdin/stdout through and writes the session',
    '(secrets redacted, volatile values declared) to FILE. stderr is passed through; the exit code',
    'is the plugin\'s.',
  ].join('\n'),
  async run(args) {
    const options = readOptions(this, () => {
      const parsed = parseArgs(args, ['out', 'description']);
      const out = parsed.options.get('out');
      if (!out || parsed.command.length === 0 || parsed.positional.length > 0) throw new UsageError('need --out FILE, then -- and the plugin command');
      return { out, command: parsed.command, description: parsed.options.get('description') };
    });
    if (!options) return 2;
    return recordSession(options.out, options.command, options.description);
  },
};

async function recordSession(out: string, command: string[], description: string | undefined): Promise<number> {
  const file = createWriteStream(out);
  const recorder = new TranscriptRecorder({
    write: (line) => file.write(`${line}\n`),
    recordedBy: 'flow-plugin record',
    // The header says what was recorded, not where: paths inside the working folder are kept
    // relative to it, so a transcript committed to a repository names no one's checkout.
    plugin: { command: command.map((arg) => (arg.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), arg) : arg)) },
    ...(description ? { description } : {}),
    parseYaml,
  });
  const [program, ...rest] = command as [string, ...string[]];
  const child = spawn(program, rest, { stdio: ['pipe', 'pipe', 'inherit'] });
  // The kit's stdout guard may own process.stdout when a host launched us: frames go to fd 1 directly.
  const stdout = createWriteStream('', { fd: 1 });
  let exitSent = false;
  const fromHost = new FrameDecoder({
    message: (m) => {
      if ((m as { method?: unknown }).method === 'exit') exitSent = true;
      recorder.message('send', m);
    },
    error: () => undefined,
  });
  const fromPlugin = new FrameDecoder({ message: (m) => recorder.message('recv', m), error: () => undefined });
  child.stdin.on('error', () => undefined);
  process.stdin.on('data', (chunk: Buffer) => {
    fromHost.push(chunk);
    child.stdin.write(chunk);
  });
  process.stdin.on('end', () => {
    // After `exit` the close is the host's ordinary last step, not an event worth replaying.
    if (!exitSent) recorder.stdinClosed();
    child.stdin.end();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    fromPlugin.push(chunk);
    stdout.write(chunk);
  });
  const code = await new Promise<number>((resolve) => {
    child.on('exit', (exitCode, signal) => {
      recorder.exit(exitCode, signal);
      resolve(exitCode ?? 1);
    });
    child.on('error', (error) => {
      process.stderr.write(`flow-plugin record: could not start ${program}: ${error.message}\n`);
      recorder.exit(null, null);
      resolve(127);
    });
  });
  await new Promise<void>((resolve) => file.end(resolve));
  await new Promise<void>((resolve) => stdout.end(resolve));
  process.stdin.destroy();
  return code;
}
