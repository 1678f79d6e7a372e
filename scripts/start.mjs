#!/usr/bin/env node
// `npm start`: starts the server from a checkout, building first only when the build is missing
// or older than the sources (npm install already built it), so a start takes the server's own
// start time, not a build's. Arguments after `npm start --` go to the server.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, staleReason } from './build-state.mjs';

const why = staleReason();
if (why !== undefined) {
  process.stdout.write(`flow: building first (${why})\n`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// In this process: no second Node start-up, and signals reach the server directly.
process.argv = [process.argv[0], path.join(ROOT, 'server', 'dist', 'main.js'), ...process.argv.slice(2)];
await import(path.join(ROOT, 'server', 'dist', 'main.js'));
