import { ErrorCodes, FramingError, Ping, createStreamTransport } from '@flow/protocol';
import type { MessageReader } from 'vscode-jsonrpc/node';
import type { Logger } from '../log.js';
import { PluginConnection } from './connection.js';
import type { DiscoveredPlugin } from './discovery.js';
import { LogBudget } from './log-budget.js';
import type { ProcessHandle } from './process.js';
import { SessionRecorder } from './recorder.js';
import type { Redactor } from './redactor.js';
import type { SessionSettings } from './settings.js';
import { StdinBacklog } from './stdin-backlog.js';

/** What the connection reports to its session. */
export interface ConnectionEvents {
  request(method: string, params: unknown): Promise<unknown>;
  notification(method: string, params: unknown): void;
  /** The plugin's output can no longer be trusted (garbage, stdout closed while running): the session ends as crashed. */
  broken(reason: string): void;
  /** Whether the session is ending already (its process's last words are not news). */
  ending(): boolean;
}

/**
 * Wires a fresh process to the protocol: Content-Length framing on its stdio (recorded when
 * `recording.dir` is set), the JSON-RPC connection, the stdin backlog bound, and what its
 * stdout may do besides carrying frames. Separate from the session so the session reads as its
 * lifecycle only.
 */
export function connect(
  proc: ProcessHandle,
  deps: { plugin: DiscoveredPlugin; settings: SessionSettings; log: Logger; redactor: Redactor },
  events: ConnectionEvents,
): { conn: PluginConnection; backlog: StdinBacklog } {
  const { plugin, settings, redactor } = deps;
  const log = proc.pid === undefined ? deps.log : deps.log.child({ pid: proc.pid });
  const recorder = SessionRecorder.open(settings.recordingDir ?? '', { name: plugin.name, command: [plugin.command, ...plugin.args], pid: proc.pid, knownSecrets: () => redactor.known() }, log);
  const transport = createStreamTransport(proc.stdout, proc.stdin, { maxFrameBytes: settings.limits.maxFrameBytes });
  const { reader, writer } = recorder ? recorder.tap(transport, proc.stdin) : transport;
  if (recorder) void proc.exited.then((exit) => recorder.exit(exit.code, exit.signal));
  const conn = new PluginConnection(reader, writer, events.request, events.notification, {
    pause: () => {
      log.warn('plugin has over 4096 requests to the host unanswered; reading its output is paused until they are served');
      proc.stdout.pause();
    },
    resume: () => proc.stdout.resume(),
  });
  watchOutput(reader, conn, proc, { ...deps, log }, events);
  return { conn, backlog: new StdinBacklog(proc, 2 * settings.limits.maxFrameBytes, settings.timeoutFor(Ping)) };
}

/** What the plugin's stdout may do besides carrying frames: close, or break the framing. */
function watchOutput(reader: MessageReader, conn: PluginConnection, proc: ProcessHandle, deps: { settings: SessionSettings; log: Logger; redactor: Redactor }, events: ConnectionEvents): void {
  const { settings, log, redactor } = deps;
  // stdout closed: normally the exit follows at once and reports the exit code; a plugin that
  // closed its stdout and kept running could never answer again, so it is treated as a crash.
  reader.onClose(() => {
    setTimeout(() => {
      if (proc.running) events.broken('closed its stdout but kept running');
    }, settings.stopStepMs).unref();
  });
  const badFrames = new LogBudget(10, 100);
  reader.onError((error) => {
    if (events.ending()) return;
    if (error instanceof FramingError && error.code === ErrorCodes.FrameTooLarge) {
      log.warn({ reason: error.message }, 'plugin sent an oversized frame; skipped');
      const size = error.data as { frameBytes: number; limitBytes: number };
      if (!error.respond && error.id !== null) conn.oversizedAnswer(error.id, size.frameBytes, size.limitBytes);
      return;
    }
    // A well-framed frame with bad content (not JSON, not JSON-RPC, another charset): the
    // transport answered it and the stream is still in step, so spec 2.5 applies: keep serving.
    // Within a budget (a burst of 100, then 10/s): past it the plugin sends little else, and
    // each one costs a log line and an answer it may never read; it is restarted below.
    if (error instanceof FramingError && error.respond && badFrames.take(() => undefined)) {
      log.warn({ reason: redactor.redact(error.message) }, 'plugin sent an invalid frame; answered it with an error');
      return;
    }
    // stdout belongs to the protocol: anything else there means a stray print, and the
    // stream can no longer be trusted (hashicorp/go-plugin#164). Log the bytes and restart.
    // The excerpt is whatever the plugin printed: mask secrets in it like any plugin output.
    const what = redactor.redact(error.message);
    log.error(`plugin broke the protocol on stdout: ${what}; restarting it`);
    events.broken(`broke the protocol on stdout: ${what}`);
  });
}
