#!/usr/bin/env node
// Where POST /message's main-thread time goes, per layer, for Flow and for the raw limit (issue 15).
// Not a test: prints two tables, exits 0.
//
//   node bench/post-profile.mjs            (after `npm run build`; BENCH_SECONDS, default 10)
//
// Each server runs in a child process (Flow: startFlow as in bench/http.mjs; raw: bench/raw-post.mjs).
// After a 2 s autocannon warm-up, the child starts the inspector's CPU profiler on itself (0.1 ms
// samples), the same load runs for BENCH_SECONDS, and the profile comes back. Every busy sample is
// charged to the nearest stack frame that is not Node's own (so Node's work is charged to the library
// or Flow code that asked for it); the kernel's socket write and V8's own time are shown apart. The
// shares are scaled to the main thread's CPU µs per message (/proc/<pid>/task/<pid>/stat) of the run.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SELF = fileURLToPath(import.meta.url);

/** Layer of a stack frame's script, or null for Node's own code (charged to its caller). */
function layerOf(url) {
  if (!url || url.startsWith('node:')) return null;
  if (/koa-compose/.test(url)) return 'Koa: compose dispatch';
  if (/@koa\/router|path-to-regexp/.test(url)) return 'router (@koa/router)';
  if (/node_modules\/(koa|delegates|on-finished|ee-first|type-is|mime-types|mime-db|statuses|vary|content-type|fresh|http-errors|encodeurl|escape-html|only|accepts|negotiator|media-typer)\//.test(url)) {
    return 'Koa: context, request/response, respond';
  }
  if (/abstract-level|classic-level|level-transcoder|node_modules\/level\//.test(url)) return 'LevelDB binding (abstract-level, classic-level)';
  if (/server\/dist\/http\/body|server\/dist\/parse\//.test(url)) return 'body read, JSON parse, field checks';
  if (/server\/dist\/http\//.test(url)) return 'Flow middleware and auth (server/dist/http)';
  if (/server\/dist\/(routes|services|events|stream|model|store)\//.test(url)) return 'route, service, store, fan-out';
  if (/bench\/raw-post/.test(url)) return 'raw handler (bench/raw-post.mjs)';
  if (/post-profile\.mjs/.test(url)) return 'profiler';
  return 'other: ' + url.replace(/^file:\/\/.*?node_modules\//, '').split('/')[0];
}

function layers(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map();
  let busy = 0;
  const add = (k, us) => out.set(k, (out.get(k) ?? 0) + us);
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') return;
    busy += us;
    if (frame.functionName === '(garbage collector)' || frame.functionName === '(program)') return add('V8 outside JS (GC, ICs, compilation)', us);
    if (!frame.url && frame.functionName === 'writev') return add('socket write (writev, kernel)', us);
    let cur = id;
    let layer = null;
    while (cur !== undefined && !(layer = layerOf(byId.get(cur).callFrame.url))) cur = parent.get(cur);
    add(layer ?? "Node's HTTP parser, sockets, event loop", us);
  });
  return { busy, out };
}

const cpuOfMainThread = (pid) => {
  const f = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};

async function run(mode) {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-bench-prof-'));
  const child = spawn(process.execPath, [SELF, '--child', mode, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = (async function* () {
    let buf = '';
    for await (const d of child.stdout) {
      buf += d;
      for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) yield buf.slice(0, nl);
    }
  })();
  const { url } = JSON.parse((await lines.next()).value);
  let token = 'Araw';
  if (mode === 'flow') {
    const admin = 'Basic ' + Buffer.from('admin:admin').toString('base64');
    const res = await fetch(url + '/application', { method: 'POST', headers: { Authorization: admin, 'Content-Type': 'application/json' }, body: '{"name":"bench"}' });
    token = (await res.json()).token;
  }
  const body = JSON.stringify({ title: 'bench', message: 'Backup of /srv/data finished in 42s, 1.2 GiB copied', priority: 5 });
  const load = (duration) =>
    autocannon({ url: url + '/message', method: 'POST', connections: 10, duration, headers: { 'X-Gotify-Key': token, 'Content-Type': 'application/json' }, body });
  await load(2);
  child.stdin.write('start\n');
  await lines.next();
  const main0 = cpuOfMainThread(child.pid);
  const result = await load(SECONDS);
  const mainUs = (cpuOfMainThread(child.pid) - main0) / result.requests.total;
  child.stdin.write('stop\n');
  const profile = JSON.parse((await lines.next()).value);
  child.stdin.end();
  await new Promise((r) => child.on('exit', r));
  await rm(dir, { recursive: true, force: true });
  return { rate: result.requests.average, mainUs, ...layers(profile) };
}

async function child(mode, dir) {
  let url;
  if (mode === 'flow') {
    const { startFlow } = await import('@flow/server');
    const flow = await startFlow({ config: { datadir: dir, 'server.listenaddr': '127.0.0.1', 'server.port': 0, passstrength: 4, 'plugins.bundled': false }, quiet: true });
    url = flow.url;
  } else {
    const { rawPost } = await import('./raw-post.mjs');
    const raw = await rawPost(path.join(dir, 'db'));
    const server = createServer((req, res) => raw.handler(req, res));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${server.address().port}`;
  }
  const session = new Session();
  session.connect();
  process.stdout.write(JSON.stringify({ url }) + '\n');
  let buf = '';
  process.stdin.on('data', async (d) => {
    buf += d;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; ) {
      const cmd = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (cmd === 'start') {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 100 });
        await session.post('Profiler.start');
        process.stdout.write('started\n');
      } else if (cmd === 'stop') {
        const { profile } = await session.post('Profiler.stop');
        process.stdout.write(JSON.stringify(profile) + '\n');
      }
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  for (const mode of ['flow', 'raw']) {
    const r = await run(mode);
    console.log(`\n${mode}: ${r.rate.toFixed(0)} req/s, main thread ${r.mainUs.toFixed(0)} µs CPU per message, ${SECONDS} s, 10 connections`);
    for (const [k, us] of [...r.out].sort((a, b) => b[1] - a[1])) {
      const share = us / r.busy;
      console.log(`  ${(share * 100).toFixed(1).padStart(5)}%  ${(share * r.mainUs).toFixed(1).padStart(6)} µs  ${k}`);
    }
  }
}
