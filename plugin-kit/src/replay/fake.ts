import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { FrameDecoder, encodeFrame, type Transcript } from '@flow/protocol';
import { replaySession, type ReplayResult } from './session.js';

const FAKE_STEP_TIMEOUT_MS = 30_000;

export interface FakePluginOptions {
  /**
   * See ReplayOptions.stepTimeoutMs. Default 30000: a host waits for its users (a test's HTTP
   * calls), so the silence between two host calls is longer than a plugin's answer time.
   */
  stepTimeoutMs?: number;
  /** Where the verdict goes as JSON ({ok, failure?, steps, total}), for the test that started the host. Never overwritten. */
  reportFile?: string;
  /** Default: process.stdin / a fresh stream on fd 1 (the kit's stdout guard may own process.stdout). */
  input?: Readable;
  output?: Writable;
}

/**
 * The fake plugin: plays the plugin side of a transcript to a live host (spawned by it as a
 * plugin executable) and checks that the host sends the same calls in the same per-instance
 * order. Resolves with the exit code this process should end with:
 * the recorded one when the transcript ends with the plugin's exit, else 0 once the host has
 * shut it down, 1 after a mismatch (the report says why; stderr too, which the host logs).
 *
 * When the transcript is used up before the host stops the plugin, the fake keeps the session
 * polite: it answers `shutdown` with `{}`, exits 0 on `exit` or stdin EOF, and answers anything
 * else with an error (and records it in the report as a failure).
 */
export async function runFakePlugin(transcript: Transcript, options: FakePluginOptions = {}): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? createWriteStream('', { fd: 1 });
  const result = await replaySession(transcript, { input, output }, { role: 'plugin', stepTimeoutMs: options.stepTimeoutMs ?? FAKE_STEP_TIMEOUT_MS });
  let code: number;
  if (!result.ok) {
    await report(options.reportFile, result);
    process.stderr.write(`flow-plugin fake: ${result.failure?.message}\n`);
    code = 1;
  } else if (result.exitCode !== undefined) {
    await report(options.reportFile, result);
    code = result.exitCode;
  } else code = await epilogue(input, output, result, options.reportFile);
  // Every answer must reach the host before the caller exits.
  await new Promise<void>((resolve) => output.end(resolve));
  return code;
}

function epilogue(input: Readable, output: Writable, result: ReplayResult, reportFile: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    let shutdown = false;
    let settled = false;
    const end = async (code: number) => {
      if (settled) return;
      settled = true;
      await report(reportFile, result);
      resolve(code);
    };
    const decoder = new FrameDecoder({
      message: (value) => {
        const m = value as { id?: unknown; method?: unknown };
        if (m.method === 'ping' && m.id !== undefined) {
          // Hosts keep pinging until they stop the plugin.
          output.write(encodeFrame({ jsonrpc: '2.0', id: m.id, result: {} }));
        } else if (m.method === 'shutdown' && m.id !== undefined) {
          shutdown = true;
          output.write(encodeFrame({ jsonrpc: '2.0', id: m.id, result: {} }));
        } else if (m.method === 'exit') {
          void end(shutdown ? 0 : 1);
        } else if (typeof m.method === 'string') {
          const failure = { kind: 'unexpected' as const, message: `after the end of the transcript the host sent ${m.method}:\n${JSON.stringify(value)}` };
          if (result.ok) Object.assign(result, { ok: false, failure });
          if (m.id !== undefined) output.write(encodeFrame({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `the fake plugin's transcript ends before ${m.method}` } }));
        }
      },
      error: () => undefined,
    });
    input.on('data', (chunk: Buffer) => decoder.push(chunk));
    input.on('end', () => void end(shutdown ? 0 : 1));
  });
}

/**
 * The first verdict is kept: a host restarts a plugin that exited 1, and the restarted fake's
 * verdict (about a session that began mid-scenario) must not hide the first one.
 */
async function report(file: string | undefined, result: ReplayResult): Promise<void> {
  if (!file) return;
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}
