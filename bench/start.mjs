#!/usr/bin/env node
// Start time: from spawning `flow` to the first 200 from GET /health, on a data dir that already
// exists (the everyday restart), with the bundled plugins loaded, side by side with a bare
// `node -e ""` and a Koa-free `node -e 'http.createServer().listen()'` probe in the same run.
// `npm start` adds only the staleness check of the build (a stat of each source file, ~10 ms).
// Target: < 3 s. Usage: node bench/start.mjs [runs] (after npm run build).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

const flowArgs = [path.join(ROOT, 'server/dist/main.js'), '--server-listenaddr', '127.0.0.1', '--server-port', '0', '--log-format', 'json'];
const flowUrl = (out) => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] && /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)[1] + '/health';
const bare = ['-e', "const s=require('http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log('url http://127.0.0.1:'+s.address().port))"];
const bareUrl = (out) => /url (http:\/\/\S+)/.exec(out)?.[1];

await time(flowArgs, flowUrl); // first start: creates the data dir and the default admin
const rows = [];
for (let i = 0; i < runs; i++) rows.push({ node: await time(bare, bareUrl), flow: await time(flowArgs, flowUrl) });
rmSync(dir, { recursive: true, force: true });
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const node = median(rows.map((r) => r.node));
const flow = median(rows.map((r) => r.flow));
console.log(`bare node http server to first 200: median ${node.toFixed(0)} ms`);
console.log(`flow (existing data dir, bundled plugins) to /health 200: median ${flow.toFixed(0)} ms (${(flow / node).toFixed(1)}× bare node)`);
process.exit(flow < 3000 ? 0 : 1);
