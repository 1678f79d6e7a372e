/**
 * Re-records the golden transcripts: `npm run golden:record [-- name...]` (builds first).
 * Each plugin runs behind `flow-plugin record`, driven by the kit's test host through the
 * scenario in scenarios.ts; the transcript lands in test/golden/<name>.jsonl.
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createTestHost } from '@flow/plugin-kit/testing';
import { FLOW_PLUGIN_CLI, GOLDEN_DIR, SCENARIOS } from './scenarios.js';

export async function recordGolden(name: string, file = path.join(GOLDEN_DIR, `${name}.jsonl`)): Promise<void> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`no golden scenario "${name}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  const temp = `${file}.partial`;
  const host = await createTestHost({ command: [process.execPath, FLOW_PLUGIN_CLI, 'record', '--out', temp, '--description', scenario.description, '--', ...scenario.command] });
  try {
    await scenario.run(host);
    if (host.violations.length > 0) throw new Error(`${name}: protocol violations: ${host.violations.join('; ')}`);
  } catch (error) {
    await host.close();
    await rm(temp, { force: true });
    throw error;
  }
  const code = await host.close();
  if (code !== 0) throw new Error(`${name}: the plugin exited with ${code} after shutdown`);
  await rename(temp, file);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SCENARIOS);
  for (const name of names) {
    const missing = SCENARIOS[name]?.command.find((part) => part.endsWith('.mjs') || part.endsWith('.py') || /\/dist\/flow-[\w-]+$/.test(part));
    if (missing && !existsSync(missing)) {
      process.stderr.write(`golden: skipping ${name}: ${missing} is not built\n`);
      continue;
    }
    await recordGolden(name);
    process.stdout.write(`golden: recorded test/golden/${name}.jsonl\n`);
  }
}
