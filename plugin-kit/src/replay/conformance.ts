import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTranscript, replayAgainstPlugin, type PluginReplayOptions } from './against-plugin.js';
import type { ReplayFailure } from './session.js';
import { LIVE_CASES, runLiveCases } from '../conformance/live.js';

/**
 * The conformance transcripts: spec/conformance/ of the Flow repository this kit runs in, or,
 * installed from its package, the copy `npm pack` put in the package (scripts/pack-library.mjs).
 */
export const CONFORMANCE_DIR = [
  fileURLToPath(new URL('../../../spec/conformance/', import.meta.url)),
  fileURLToPath(new URL('../../conformance/', import.meta.url)),
].find((dir) => existsSync(dir)) ?? fileURLToPath(new URL('../../conformance/', import.meta.url));

export interface ConformanceCase {
  name: string;
  description: string;
  ok: boolean;
  failure?: Pick<ReplayFailure, 'message'>;
  /** Why the case does not apply to this plugin (it passes). */
  notApplicable?: string;
  /** Listed in the baseline of known failures (`--expected-failures`). */
  expectedFailure?: boolean;
}

/** Every case name, transcripts first, in the order they run. */
export async function conformanceCaseNames(dir: string = CONFORMANCE_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.jsonl')).sort();
  return [...files.map((file) => file.replace(/\.jsonl$/, '').replace(/^\d+-/, '')), ...LIVE_CASES.map((c) => c.name)];
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
  // The live cases exist in this kit only (they are not transcripts): skipped when a custom --dir is given.
  if (options.dir === undefined) {
    const live = LIVE_CASES.filter((c) => !options.only || options.only.includes(c.name));
    for (const result of await runLiveCases(live, command, options.stepTimeoutMs ?? 5_000)) {
      results.push({
        name: result.name,
        description: result.description,
        ok: result.ok,
        ...(result.message ? { failure: { message: result.message } } : {}),
        ...(result.notApplicable ? { notApplicable: result.notApplicable } : {}),
      });
    }
  }
  return results;
}

/** The pass/fail table `flow-plugin check` prints, failures explained below it. */
export function formatConformance(command: readonly string[], cases: ConformanceCase[]): string {
  const width = Math.max(...cases.map((c) => c.name.length), 4);
  const passed = cases.filter((c) => c.ok).length;
  const lines = [`Flow protocol 1.x conformance: ${command.join(' ')}`, ''];
  for (const c of cases) lines.push(`  ${verdict(c)}  ${c.name.padEnd(width)}  ${c.ok ? (c.notApplicable ? `n/a: ${c.notApplicable}` : c.description) : firstLine(c.failure?.message)}`);
  const known = cases.filter((c) => !c.ok && c.expectedFailure).length;
  const fixed = cases.filter((c) => c.ok && c.expectedFailure);
  lines.push('', `${passed}/${cases.length} passed${known > 0 ? `, ${known} known failures (baseline)` : ''}`);
  for (const c of fixed) lines.push(`${c.name} passes now: remove it from the baseline of expected failures`);
  for (const c of cases.filter((c) => !c.ok)) lines.push('', `--- ${c.name}: ${c.description}`, c.failure?.message ?? '');
  return `${lines.join('\n')}\n`;
}

function verdict(c: ConformanceCase): string {
  if (c.expectedFailure) return c.ok ? 'XPAS' : 'XFAL';
  if (!c.ok) return 'FAIL';
  return c.notApplicable ? 'N/A ' : 'PASS';
}

/**
 * Reads a baseline of known failures: one case name per line, `#` comments and blank lines
 * ignored. A name that is not a case is an error (a typo would silently hide nothing).
 */
export function parseExpectedFailures(text: string, known: readonly string[]): string[] {
  const names = text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`the baseline names cases that do not exist: ${unknown.join(', ')} (cases: ${known.join(', ')})`);
  return names;
}

/**
 * The exit verdict with a baseline: fails on a failure not in the baseline, and on a baseline
 * case that passes now (the baseline must shrink as plugins get fixed).
 */
export function conformanceOk(cases: ConformanceCase[]): boolean {
  return cases.every((c) => (c.expectedFailure ? !c.ok : c.ok));
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0] ?? '';
}

