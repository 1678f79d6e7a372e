import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { SUPPORTED_PROTOCOL_VERSIONS, parseTranscript, isMessageEntry, type Transcript } from '@flow/protocol';
import { LAUNCH_ENV } from '../stdio.js';
import { replaySession, type ReplayResult } from './session.js';

export interface PluginReplayOptions {
  /** See ReplayOptions.stepTimeoutMs. */
  stepTimeoutMs?: number;
  /** Extra environment for the plugin (the launch marker is set from the transcript's offer). */
  env?: Record<string, string>;
  cwd?: string;
}

/** Stderr lines kept for crash and hang reports. */
const STDERR_TAIL = 20;
/** After the replay: how long a plugin gets to exit on its own before SIGKILL. */
const REAP_MS = 2_000;

/**
 * Reads and parses a transcript file. Throws TranscriptError (naming the line) for a bad one,
 * and the fs error for a missing one: both are usage errors (exit 2) for the CLI.
 */
export async function loadTranscript(file: string): Promise<Transcript> {
  return parseTranscript(await readFile(file, 'utf8'));
}

/**
 * Launches `command` as the server would and plays the host side of `transcript` to it:
 * `flow-plugin replay`, the golden tests and the conformance kit all go through here.
 * The plugin is always gone when this resolves.
 */
export async function replayAgainstPlugin(transcript: Transcript, command: readonly string[], options: PluginReplayOptions = {}): Promise<ReplayResult> {
  const [file, ...args] = command;
  if (!file) throw new TypeError('replayAgainstPlugin: the plugin command is empty');
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: { ...process.env, [LAUNCH_ENV]: offeredVersions(transcript).join(','), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    stderr.push(...lines);
    if (stderr.length > STDERR_TAIL) stderr.splice(0, stderr.length - STDERR_TAIL);
  });
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: string | null; spawnError?: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: null, spawnError: error.message }));
  });
  try {
    return await replaySession(transcript, { input: child.stdout, output: child.stdin, exited, stderrTail: () => (partial ? [...stderr, partial] : stderr) }, { role: 'host', stepTimeoutMs: options.stepTimeoutMs });
  } finally {
    // The transcript may end before the plugin does (no exit recorded): close its stdin, as the
    // spec's host does, and make sure nothing outlives the replay.
    child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), REAP_MS)))]);
    clearTimeout(timer);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

/** The launch marker lists what the recorded host offered, so a version-mismatch transcript is played faithfully. */
function offeredVersions(transcript: Transcript): readonly string[] {
  for (const entry of transcript.entries) {
    if (isMessageEntry(entry) && entry.msg.method === 'initialize') {
      const offered = (entry.msg.params as { protocolVersions?: unknown } | undefined)?.protocolVersions;
      if (Array.isArray(offered) && offered.every((v) => typeof v === 'string')) return offered as string[];
    }
  }
  return SUPPORTED_PROTOCOL_VERSIONS;
}
