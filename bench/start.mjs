#!/usr/bin/env node
// Start time: from spawning `flow` to the first 200 from GET /health, on a data dir that already
// exists (the everyday restart), with the bundled plugins loaded, side by side in the same run:
// - the installed package's server (build/package/dist/main.js, as `npm run package` stages it:
//   one esbuild bundle with the pure-JavaScript dependencies inlined), when it has been staged;
// - the checkout's server (server/dist/main.js: tsc output, each dependency its own modules);
// - a Koa-free `node -e 'http.createServer().listen()'` probe (Node's own start-up right now).
// `npm start` adds only the staleness check of the build (a stat of each source file, ~10 ms).
// Target: < 3 s. Usage: node bench/start.mjs [runs] (after npm run build, and npm run package).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(path.join(tmpdir(), 'flow-bench-start-'));

function time(args, probeUrl) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', async (d) => {
      out += d;
      const m = probeUrl(out);
      if (!m) return;
      probeUrl = () => undefined;
      for (;;) {
        try {
          if ((await fetch(m)).ok) break;
        } catch {}
      }
      const ms = performance.now() - t0;
      child.kill('SIGTERM');
      child.on('close', () => resolve(ms));
    });
    child.on('error', reject);
  });
}

const serverArgs = ['--server-listenaddr', '127.0.0.1', '--server-port', '0', '--log-format', 'json'];
const variants = [
  ['package (bundled)', path.join(ROOT, 'build/package/dist/main.js')],
  ['checkout (server/dist)', path.join(ROOT, 'server/dist/main.js')],
].filter(([name, main]) => {
  if (existsSync(main)) return true;
  console.log(`${name}: ${path.relative(ROOT, main)} is missing (npm run package stages it): not measured`);
  return false;
});
const flowUrl = (out) => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] && /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)[1] + '/health';
const bare = ['-e', "const s=require('http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log('url http://127.0.0.1:'+s.address().port))"];
const bareUrl = (out) => /url (http:\/\/\S+)/.exec(out)?.[1];

for (const [, main] of variants) await time([main, ...serverArgs], flowUrl); // first start: creates the data dir and the default admin
const rows = [];
for (let i = 0; i < runs; i++) {
  const row = { node: await time(bare, bareUrl) };
  for (const [name, main] of variants) row[name] = await time([main, ...serverArgs], flowUrl);
  rows.push(row);
}
rmSync(dir, { recursive: true, force: true });
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const node = median(rows.map((r) => r.node));
console.log(`bare node http server to first 200: median ${node.toFixed(0)} ms`);
let worst = 0;
for (const [name] of variants) {
  const flow = median(rows.map((r) => r[name]));
  worst = Math.max(worst, flow);
  console.log(`flow ${name} (existing data dir, bundled plugins) to /health 200: median ${flow.toFixed(0)} ms (${(flow / node).toFixed(1)}× bare node)`);
}
process.exit(worst < 3000 ? 0 : 1);
