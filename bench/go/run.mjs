#!/usr/bin/env node
// Go plugins vs kit (TypeScript) plugins, side by side in one run. Not a test: prints numbers.
//
//   node bench/go/run.mjs        (after `npm run build`, which builds plugins/*-go with Go installed)
//   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_USERS=10000 node bench/go/run.mjs
//   node bench/go/run.mjs --no-cold   (skip the cold build, which compiles gin: minutes on a busy VM)
//   node bench/go/run.mjs --relay-only | --rss-only
//
// 1. Webhook relay: one Flow server (child process) with plugins/echo (kit) and plugins/echo-go
//    (Gotify's API on the Go kit, a real gin engine inside), both enabled; autocannon, 10
//    connections, on GET echo (storage load + save + message/send per request: the whole echo)
//    and on GET of an unknown path (404: the relay alone). The runs take turns ROUNDS times, the
//    median counts; CPU per request of the server and of the plugin process from /proc/<pid>/stat.
// 2. RSS at 10,000 instances: each plugin executable driven directly over the protocol (no
//    server): initialize, then BENCH_USERS × instance/create, config/validateAndSet (its default),
//    instance/enable, pipelined 256 at a time; then, after 3 s idle, VmRSS from /proc/<pid>/status.
// 3. Build time of plugins/echo-go with flow-plugin build-go: warm (the shared build cache) and,
//    unless --no-cold, cold (an empty cache: gin and its dependencies compiled once).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const SETTLE_MS = 3000;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const CLI = path.join(root, 'plugin-kit/dist/cli/main.js');
const TS_ECHO = path.join(root, 'plugins/echo/dist/flow-echo.mjs');
const GO_ECHO = path.join(root, 'plugins/echo-go/dist/flow-echo-go');
const TS_MINIMAL = path.join(root, 'plugins/minimal/dist/flow-minimal.mjs');
const GO_MINIMAL = path.join(root, 'plugins/minimal-go/dist/flow-minimal-go');

const cpuUs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- child: the server ---------------------------------------------------------------------
async function serve(data, plugins) {
  const { startFlow } = await import('@flow/server');
  const flow = await startFlow({
    config: { 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: data, passstrength: 4, pluginsdir: plugins, 'plugins.watch': false, 'plugins.pingintervalseconds': 0, 'plugins.startwaitms': 60_000, 'plugins.bundled': false },
    quiet: true,
  });
  const out = {};
  for (const conf of flow.app.services.plugins.list(1)) {
    await flow.app.services.plugins.enable(1, conf.id);
    const proc = flow.app.services.plugins.processes().find((p) => p.modulePath === conf.modulePath);
    out[conf.modulePath.endsWith('echo-go') ? 'go' : 'ts'] = { base: `${flow.url}/plugin/${conf.id}/custom/${conf.token}/`, pid: proc?.pid };
  }
  console.log(JSON.stringify({ ...out, server: process.pid }));
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
  await flow.close();
}

// ---- a raw protocol driver for the RSS part ------------------------------------------------
function frame(message) {
  const body = Buffer.from(JSON.stringify(message));
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
}

async function rssAt(command, users) {
  const proc = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, FLOW_PLUGIN_PROTOCOL: '1.0' } });
  let buffer = Buffer.alloc(0);
  const waiting = new Map();
  proc.stdout.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
      if (buffer.length < end + 4 + length) return;
      const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString());
      buffer = buffer.subarray(end + 4 + length);
      if (message.method && message.id !== undefined) proc.stdin.write(frame({ jsonrpc: '2.0', id: message.id, result: message.method === 'storage/load' ? { data: '' } : {} }));
      else if (message.id !== undefined && waiting.has(message.id)) {
        waiting.get(message.id)(message);
        waiting.delete(message.id);
      }
    }
  });
  let id = 0;
  const call = (method, params) => new Promise((resolve) => {
    const n = ++id;
    waiting.set(n, resolve);
    proc.stdin.write(frame({ jsonrpc: '2.0', id: n, method, params }));
  });
  const init = await call('initialize', { protocolVersions: ['1.0'], host: { name: 'bench', version: '0' }, limits: { maxFrameBytes: 8388608, storageQuotaBytes: 4194304, webhookBodyBytes: 1048576 } });
  proc.stdin.write(frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
  const configurer = init.result.capabilities.includes('configurer');
  const idleMb = rssMb(proc.pid);
  const t0 = performance.now();
  const one = async (i) => {
    const instanceId = String(i);
    await call('instance/create', { instanceId, user: { id: i, name: `user${i}`, admin: false }, webhookBasePath: `/plugin/${i}/custom/Pbench${i}/` });
    if (configurer) {
      const { result } = await call('config/default', { instanceId });
      await call('config/validateAndSet', { instanceId, config: result.config });
    }
    await call('instance/enable', { instanceId });
  };
  for (let i = 1; i <= users; i += 256) await Promise.all(Array.from({ length: Math.min(256, users - i + 1) }, (_, k) => one(i + k)));
  const loadMs = performance.now() - t0;
  const cpuMs = cpuUs(proc.pid) / 1000;
  // As the server leaves a plugin after start: idle. Both kits settle their heap after a burst.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const mb = rssMb(proc.pid);
  proc.stdin.end();
  await new Promise((r) => proc.on('exit', r));
  return { idleMb, mb, loadMs, cpuMs };
}

async function rssPart() {
  console.log(`\n| plugin | RSS idle | RSS with ${USERS.toLocaleString('en')} instances | time to create+configure+enable | plugin CPU |\n|---|---|---|---|---|`);
  const rss = {};
  for (const [name, command] of [['kit echo', [process.execPath, TS_ECHO]], ['Go echo', [GO_ECHO]], ['kit minimal', [process.execPath, TS_MINIMAL]], ['Go minimal', [GO_MINIMAL]]]) {
    const r = await rssAt(command, USERS);
    rss[name] = r.mb;
    console.log(`| ${name} | ${r.idleMb.toFixed(1)} MB | ${r.mb.toFixed(1)} MB | ${(r.loadMs / 1000).toFixed(2)} s | ${(r.cpuMs / 1000).toFixed(2)} s |`);
  }
  console.log(`\nGo ÷ kit RSS at ${USERS} instances: echo ${((100 * rss['Go echo']) / rss['kit echo']).toFixed(0)}%, minimal ${((100 * rss['Go minimal']) / rss['kit minimal']).toFixed(0)}% (target ≤ 40%)`);
}

// ---- parent ----------------------------------------------------------------------------------
function child(args) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.on('exit', (code) => reject(new Error(`bench child exited with ${code}`)));
  });
  return { proc, first, exited: new Promise((r) => proc.on('exit', r)) };
}

const cannon = (url) => new Promise((resolve, reject) => autocannon({ url, connections: 10, duration: SECONDS }, (err, res) => (err ? reject(err) : resolve(res))));

function timeBuild(cacheDir) {
  const out = path.join(tmpdir(), `flow-bench-echo-go-${process.pid}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'build-go', path.join(root, 'plugins/echo-go'), '-o', out], { env: { ...process.env, ...(cacheDir ? { FLOW_GO_CACHE: cacheDir } : {}) }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`build-go failed: ${r.stderr}`);
  return ms;
}

async function main() {
  const work = await mkdtemp(path.join(tmpdir(), 'flow-bench-go-'));
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`Go plugins vs kit plugins; ${new Date().toISOString()}, load average ${load()}`);
  try {
    if (process.argv.includes('--rss-only')) {
      await rssPart();
      return;
    }
    // 1. relay
    const plugins = path.join(work, 'plugins');
    await mkdir(plugins);
    await symlink(TS_ECHO, path.join(plugins, 'echo'));
    await symlink(GO_ECHO, path.join(plugins, 'echo-go'));
    const srv = child(['--serve', path.join(work, 'data'), plugins]);
    const info = await srv.first;
    const targets = {
      'kit echo, GET echo': { url: `${info.ts.base}echo`, pids: [info.server, info.ts.pid] },
      'Go echo, GET echo': { url: `${info.go.base}echo`, pids: [info.server, info.go.pid] },
      'kit echo, GET unknown path (404)': { url: `${info.ts.base}nope`, pids: [info.server, info.ts.pid] },
      'Go echo, GET unknown path (404)': { url: `${info.go.base}nope`, pids: [info.server, info.go.pid] },
    };
    for (const t of Object.values(targets)) await cannon(t.url);
    const results = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, t] of Object.entries(targets)) {
        const before = t.pids.map(cpuUs);
        const res = await cannon(t.url);
        const cpu = t.pids.map((pid, i) => (cpuUs(pid) - before[i]) / res.requests.total);
        results[name].push({ rps: res.requests.average, p99: res.latency.p99, non2xx: res.non2xx, server: cpu[0], plugin: cpu[1] });
      }
    }
    srv.proc.stdin.end();
    await srv.exited;
    console.log('\n| webhook | req/s (median) | p99 ms | CPU µs/req server + plugin |\n|---|---|---|---|');
    for (const [name, rs] of Object.entries(results)) {
      const m = median(rs.map((r) => r.rps));
      const r = rs.find((x) => x.rps === m);
      console.log(`| ${name} | ${Math.round(m).toLocaleString('en')} | ${r.p99} | ${Math.round(r.server)} + ${Math.round(r.plugin)} |${r.non2xx ? ` (${r.non2xx} non-2xx)` : ""}`);
    }

    if (process.argv.includes('--relay-only')) return;
    await rssPart();

    // 3. build time
    const warm = timeBuild();
    console.log(`\nbuild-go plugins/echo-go: warm cache ${(warm / 1000).toFixed(1)} s`);
    if (!process.argv.includes('--no-cold')) {
      const cold = await mkdtemp(path.join(work, 'gocache-'));
      console.log(`build-go plugins/echo-go: cold cache ${(timeBuild(cold) / 1000).toFixed(1)} s (load average ${load()})`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4]);
else await main();
