import { format } from 'node:util';
import type { Writable } from 'node:stream';
import type { LogLevel } from '@flow/protocol';
import type { LogFields } from './instance.js';

/**
 * A plugin's stderr is its log stream. Each line the kit writes there is one JSON object shaped
 * like the `log/write` params plus a time, so the host can re-log it at its level:
 * `{"time":"…","level":"warn","message":"…","instanceId":"5","fields":{…}}`.
 */
export function writeLogLine(stream: Writable, level: LogLevel, message: string, fields?: LogFields, instanceId?: string): void {
  const line: Record<string, unknown> = { time: new Date().toISOString(), level, message };
  if (instanceId !== undefined) line.instanceId = instanceId;
  if (fields !== undefined && Object.keys(fields).length > 0) line.fields = fields;
  let text: string;
  try {
    text = JSON.stringify(line);
  } catch {
    text = JSON.stringify({ time: line.time, level, message, instanceId });
  }
  if (!stream.destroyed && !stream.writableEnded) stream.write(`${text}\n`);
}

const CONSOLE_LEVELS: ReadonlyArray<[keyof Console, LogLevel]> = [
  ['log', 'info'],
  ['info', 'info'],
  ['debug', 'debug'],
  ['trace', 'debug'],
  ['warn', 'warn'],
  ['error', 'error'],
];

/**
 * Makes stdout carry protocol frames only, whatever plugin code or its libraries do:
 * 1. `console.log`/`info`/`debug`/`trace`/`warn`/`error` become JSON log lines on stderr;
 * 2. anything else written to `process.stdout` (console.table, a library's own writes) goes to
 *    stderr too, with one warning naming the culprit.
 * Stray stdout is the most reported failure of subprocess plugins (hashicorp/go-plugin#164,
 * microsoft/vscode-languageserver-node#1305).
 */
export function routeOutputToStderr(stderr: Writable = process.stderr): void {
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, level] of CONSOLE_LEVELS) {
    target[method as string] = (...args: unknown[]) => writeLogLine(stderr, level, format(...args));
  }
  let warned = false;
  const redirected = function write(this: unknown, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    if (!warned) {
      warned = true;
      writeLogLine(stderr, 'warn', 'something wrote to stdout, which carries the protocol; redirected to stderr', {
        stack: new Error('stdout write').stack?.split('\n').slice(2, 6).join('\n'),
      });
    }
    return (stderr.write as (...args: unknown[]) => boolean)(chunk, encoding, callback);
  };
  process.stdout.write = redirected as typeof process.stdout.write;
}
