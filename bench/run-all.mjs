#!/usr/bin/env node
// Runs every benchmark in bench/: each bench/<area>/run.mjs (or bench/<name>.mjs), one after
// another so they do not compete for the two cores. Each prints its own side-by-side table.
import { readdirSync, existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const scripts = [];
for (const entry of readdirSync(here).sort()) {
  const path = join(here, entry);
  if (statSync(path).isDirectory()) {
    const run = join(path, 'run.mjs');
    if (existsSync(run)) scripts.push([entry, run]);
  } else if (entry.endsWith('.mjs') && entry !== 'run-all.mjs') {
    scripts.push([entry.replace(/\.mjs$/, ''), path]);
  }
}
let failed = 0;
for (const [name, script] of scripts) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n=== bench: ${name} ===`);
  const result = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
