import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { MessageReader, MessageWriter } from 'vscode-jsonrpc/node';
import { TranscriptRecorder, type TranscriptDirection } from '@flow/protocol';
import { parseYamlBounded } from '../parse/bounded.js';
import type { Logger } from '../log.js';
import { FLOW_VERSION } from '../version.js';

/** What the recorder learns from the supervisor: secrets it knows that the session may not reveal. */
export interface RecordingSource {
  /** Entry name in the plugins folder; names the file. */
  name: string;
  command: string[];
  pid: number | undefined;
  /** Webhook tokens and secret config values known right now, with what they are. */
  knownSecrets(): Iterable<[value: string, what: string]>;
}

/**
 * Records one plugin process's session to `<dir>/<entry>-<start time>-<pid>.jsonl` (config key
 * `recording.dir`; spec/transcripts.md). The recorder sees every message the connection reads
 * or writes, including the `$/cancelRequest` vscode-jsonrpc sends on its own, because it wraps
 * the transport rather than the connection. A failure to write only costs the recording.
 */
export class SessionRecorder {
  private readonly recorder: TranscriptRecorder;
  private readonly file: WriteStream;
  private exitSent = false;
  private ended = false;

  private constructor(
    file: string,
    private readonly source: RecordingSource,
    log: Logger,
  ) {
    this.file = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.file.on('error', (error) => log.warn({ file, err: error.message }, 'cannot write the plugin session recording; it stops here'));
    this.recorder = new TranscriptRecorder({
      write: (line) => {
        if (!this.file.destroyed) this.file.write(`${line}\n`);
      },
      recordedBy: `flow-server ${FLOW_VERSION}`,
      plugin: { command: source.command },
      parseYaml: (text: string) => parseYamlBounded(text),
    });
    log.info({ file }, 'recording the plugin session');
  }

  /** A recorder for a fresh process, or undefined when recording is off (`dir` empty). */
  static open(dir: string, source: RecordingSource, log: Logger): SessionRecorder | undefined {
    if (dir === '') return undefined;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      // Recording is a diagnostic aid: a bad folder must not keep the plugin from running.
      log.warn({ dir, err: (error as Error).message }, 'cannot create the recording folder (recording.dir); this plugin session is not recorded');
      return undefined;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const safe = source.name.replace(/[^A-Za-z0-9._-]+/g, '_');
    return new SessionRecorder(path.join(dir, `${safe}-${stamp}-${source.pid ?? 'nopid'}.jsonl`), source, log);
  }

  /** The transport with every message also going to the transcript. */
  tap(transport: { reader: MessageReader; writer: MessageWriter }, stdin: Writable): { reader: MessageReader; writer: MessageWriter } {
    // The host's last step is `exit` then closing stdin; a close without `exit` is a crash of
    // the host side (stop sequence after a failed shutdown) and belongs in the transcript.
    stdin.once('finish', () => {
      if (!this.exitSent && !this.ended) this.recorder.stdinClosed();
    });
    const reader = new Proxy(transport.reader, {
      get: (target, prop) => {
        if (prop === 'listen') return (callback: (message: unknown) => void) => target.listen((message) => {
          this.record('recv', message);
          callback(message);
        });
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const writer = new Proxy(transport.writer, {
      get: (target, prop) => {
        if (prop === 'write') return (message: unknown) => {
          this.record('send', message);
          if ((message as { method?: unknown }).method === 'exit') this.exitSent = true;
          return target.write(message as never);
        };
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { reader, writer };
  }

  /** The process ended: the last line, then the file is closed. Safe to call twice. */
  exit(code: number | null, signal: string | null): void {
    if (this.ended) return;
    this.ended = true;
    this.recorder.exit(code, signal);
    this.file.end();
  }

  private record(dir: TranscriptDirection, message: unknown): void {
    if (this.ended) return;
    for (const [value, what] of this.source.knownSecrets()) this.recorder.addSecret(value, what);
    this.recorder.message(dir, message);
  }
}
