#!/usr/bin/env node
// `npm run build`: TypeScript (tsc -b), then each workspace's bundle step (web UI, one file per
// plugin), one line per step with its time, so the first build (a minute or more on a small
// machine) is never silent. Writes the build stamp that `npm start` checks.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, STAMP, fingerprint, workspaces } from './build-state.mjs';

const steps = [{ what: 'compiling TypeScript (tsc -b)', cmd: ['npx', '--no-install', 'tsc', '-b'], cwd: ROOT }];
for (const dir of workspaces()) {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (!pkg.scripts?.bundle) continue;
  const rel = path.relative(ROOT, dir);
  steps.push({ what: rel === 'server' ? 'bundling the web UI (server/ui)' : `bundling ${rel}`, cmd: ['npm', 'run', '--silent', 'bundle'], cwd: dir });
}

const before = fingerprint();
const t0 = Date.now();
for (const [i, step] of steps.entries()) {
  const t = Date.now();
  process.stdout.write(`flow build [${i + 1}/${steps.length}] ${step.what}…\n`);
  const code = await new Promise((resolve) => {
    const child = spawn(step.cmd[0], step.cmd.slice(1), { cwd: step.cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (c) => {
      // Tools' own output only matters when they fail (tsc prints its errors on stdout).
      if (c !== 0) process.stdout.write(out);
      resolve(c);
    });
  });
  if (code !== 0) {
    process.stderr.write(`flow build: ${step.what} failed (exit ${code})\n`);
    process.exit(code ?? 1);
  }
  process.stdout.write(`flow build [${i + 1}/${steps.length}] done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}
mkdirSync(path.dirname(STAMP), { recursive: true });
// The sources as they were when the build began: an edit during the build makes the next start rebuild.
writeFileSync(STAMP, JSON.stringify({ fingerprint: before, builtAt: new Date().toISOString() }) + '\n');
process.stdout.write(`flow build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
