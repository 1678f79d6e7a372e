import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTranscript, replayAgainstPlugin, type PluginReplayOptions } from './against-plugin.js';
import type { ReplayFailure } from './session.js';

/** spec/conformance/ of the Flow repository this kit was built in. */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../../spec/conformance/', import.meta.url));

export interface ConformanceCase {
  name: string;
  description: string;
  ok: boolean;
  failure?: ReplayFailure;
}

/**
 * Runs every transcript of the conformance kit (spec/conformance/*.jsonl, in name order)
 * against a fresh process of the plugin: one process per case, so a case that kills the
 * plugin cannot hide the next one's result.
 */
export async function runConformance(command: readonly string[], options: PluginReplayOptions & { dir?: string; only?: string[] } = {}): Promise<ConformanceCase[]> {
  const dir = options.dir ?? CONFORMANCE_DIR;
  const files = (await readdir(dir)).filter((file) => file.endsWith('.jsonl')).sort();
  const results: ConformanceCase[] = [];
  for (const file of files) {
    const name = file.replace(/\.jsonl$/, '').replace(/^\d+-/, '');
    if (options.only && !options.only.includes(name)) continue;
    // A broken kit transcript is our bug, not the plugin's: let TranscriptError reach the caller.
    const transcript = await loadTranscript(join(dir, file));
    const result = await replayAgainstPlugin(transcript, command, options);
    results.push({ name, description: transcript.header.description ?? '', ok: result.ok, ...(result.failure ? { failure: result.failure } : {}) });
  }
  return results;
}

/** The pass/fail table `flow-plugin check` prints, failures explained below it. */
export function formatConformance(command: readonly string[], cases: ConformanceCase[]): string {
  const width = Math.max(...cases.map((c) => c.name.length), 4);
  const passed = cases.filter((c) => c.ok).length;
  const lines = [`Flow protocol v1 conformance: ${command.join(' ')}`, ''];
  for (const c of cases) lines.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.ok ? c.description : firstLine(c.failure?.message)}`);
  lines.push('', `${passed}/${cases.length} passed`);
  for (const c of cases.filter((c) => !c.ok)) lines.push('', `--- ${c.name}: ${c.description}`, c.failure?.message ?? '');
  return `${lines.join('\n')}\n`;
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0] ?? '';
}

