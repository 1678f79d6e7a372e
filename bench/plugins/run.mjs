#!/usr/bin/env node
// Plugin host benchmark (issue 4). Not a test: prints numbers and checks targets.
//
//   node bench/plugins/run.mjs            (after `npm run build`; `npm run bench` does both)
//   BENCH_SECONDS=10 BENCH_USERS=10000 node bench/plugins/run.mjs
//   node bench/plugins/run.mjs --relay-only   (part 2 only: no 10,000-user startup, ~1 min)
//   node bench/plugins/run.mjs --startup-only (part 1 only: startup time and plugin RSS)
//
// 1. Startup: 10,000 users × 3 kit-based plugins (echo, minimal, hello). A child process
//    seeds the users, starts Flow once cold (confs, tokens and echo's internal applications
//    are created), marks every instance enabled, stops, then starts again warm and measures
//    the time until every instance is created, configured and enabled (startFlow resolves
//    then). Each plugin process's RSS is read from /proc after the warm start.
// 2. Webhook relay: autocannon, 10 connections, GET on the hello plugin's webhook through
//    Flow, side by side with a handler of the same size in-process in Flow's Koa app
//    (GET /version of the same server: the same middleware, a constant ~100-byte body, no
//    plugin hop); the ratio of the two is the cost of the hop, and the target's ratio. A
//    bare Koa + @koa/router app answering "hello" is run too, to show what Flow's own
//    middleware (request id, child logger, access log, error body, static UI) costs on top.
//    The three take turns, ROUNDS times; the median counts. Servers run in child processes,
//    so the load generator does not share their event loop. Besides req/s, each run reports the
//    server process's CPU time per request (and the plugin's, for the relay) from /proc/<pid>/stat:
//    on a shared machine throughput swings with other load, CPU per request hardly moves.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const CONNECTIONS = 10;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const HELLO = path.join(here, 'hello-plugin.mjs');
const bundle = (name) => path.join(root, 'plugins', name, 'dist', `flow-${name}.mjs`);
const quietConfig = (data, plugins) => ({
  'server.listenaddr': '127.0.0.1',
  'server.port': 0,
  datadir: data,
  passstrength: 4,
  pluginsdir: plugins,
  'plugins.watch': false,
  'plugins.pingintervalseconds': 0,
  // On a loaded machine the plugins may need more than the default 2 s to come up: wait for them.
  'plugins.startwaitms': 60_000,
  // Only the plugins this bench puts in its folder: the shipped ones would be counted as missing instances.
  'plugins.bundled': false,
});

/**
 * startFlow, also for the build of an older commit (the before/after runs in bench/README.md):
 * one that knows no `plugins.bundled` has no bundled plugins either, so the key is dropped.
 */
async function startFlowAnyBuild(options) {
  const { startFlow } = await import('@flow/server');
  try {
    return await startFlow(options);
  } catch (err) {
    if (!/unknown config key plugins\.bundled/.test(String(err?.message))) throw err;
    const { 'plugins.bundled': _, ...config } = options.config;
    return startFlow({ ...options, config });
  }
}

const RELAY_ONLY = process.argv[2] === '--relay-only';
const STARTUP_ONLY = process.argv[2] === '--startup-only';

/** CPU time (user + system) a process has used so far, in µs; clock ticks are 10 ms on Linux. */
const cpuUs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};

const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

// ---- child: startup ------------------------------------------------------------------------
const PLUGIN_COUNT = 3;

/**
 * Resolves once every plugin process is up with one instance per user, and (when `enabled`) every
 * instance enabled; checked on the host's own state every 20 ms, so the time measured includes
 * instances that come up in the background after startFlow resolved. Rejects after `ms`.
 */
async function allInstancesUp(flow, { enabled, ms = 300_000 }) {
  const deadline = performance.now() + ms;
  for (;;) {
    const sups = flow.app.services.plugins.host.list();
    // More plugins than this bench installed would never add up: say which, at once.
    if (sups.length > PLUGIN_COUNT) throw new Error(`${sups.length} plugins loaded, expected ${PLUGIN_COUNT}: ${sups.map((sup) => sup.plugin.name).join(', ')}`);
    // A plugin's instances belong to its current session (none while it is starting).
    const inst = (sup) => (sup.session ?? sup).instances ?? new Map();
    const complete =
      sups.length === PLUGIN_COUNT &&
      sups.every((sup) => inst(sup).size === USERS && (!enabled || [...inst(sup).values()].every((i) => i.enabled)));
    if (complete) return;
    if (performance.now() > deadline) {
      const got = sups.map((sup) => `${sup.plugin.name}: ${inst(sup).size} instances, ${[...inst(sup).values()].filter((i) => i.enabled).length} enabled`);
      throw new Error(`not every instance came up within ${ms} ms (${PLUGIN_COUNT} plugins × ${USERS} users expected; ${got.join('; ') || 'no plugin'})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startupChild(data, plugins) {
  const startFlow = startFlowAnyBuild;
  // startFlow waits at most plugins.startwaitms (2 s by default) before listening; here it must
  // wait for all 30,000 instances, and allInstancesUp checks that none is missing.
  const config = { ...quietConfig(data, plugins), 'plugins.startwaitms': 600_000 };

  // Seed users straight into the store (bcrypt for 10,000 users would take minutes; nobody logs in).
  const seed = await startFlow({ config: { ...config, pluginsdir: path.join(data, 'empty') }, quiet: true });
  const hash = (await seed.app.store.users.list())[0].passHash;
  for (let i = 1; i < USERS; i++) await seed.app.store.users.create({ name: `user${i}`, passHash: hash, admin: false });
  await seed.close();

  let t0 = performance.now();
  let flow = await startFlow({ config, quiet: true });
  await allInstancesUp(flow, { enabled: false });
  const cold = performance.now() - t0;
  const confs = flow.app.store.pluginConfs.list();
  if (confs.length !== USERS * PLUGIN_COUNT) throw new Error(`${confs.length} plugin confs after the cold start, expected ${USERS * PLUGIN_COUNT}`);
  for (const conf of confs) await flow.app.store.pluginConfs.update(conf.id, { enabled: true });
  await flow.close();
  // One start with everything enabled before the measured one: a messenger's internal application
  // comes with the first enable, so this start creates echo's 1,000 applications (an older build did
  // it in the cold start); the measured warm start then has nothing to create in any build.
  flow = await startFlow({ config, quiet: true });
  await allInstancesUp(flow, { enabled: true });
  await flow.close();

  t0 = performance.now();
  flow = await startFlow({ config, quiet: true });
  await allInstancesUp(flow, { enabled: true });
  const warm = performance.now() - t0;
  // A plugin's instances and pid belong to its current session (before the redesign: to the supervisor).
  const procs = flow.app.services.plugins.host.list().map((sup) => ({
    name: sup.plugin.name,
    instances: (sup.session ?? sup).instances.size,
    enabled: [...(sup.session ?? sup).instances.values()].filter((i) => i.enabled).length,
    rssMb: rssMb((sup.session ?? sup).pid),
  }));
  await flow.close();
  return { users: USERS, coldMs: cold, warmMs: warm, procs };
}

// ---- child: servers for the webhook run ----------------------------------------------------
async function serveFlow(data, plugins) {
  const flow = await startFlowAnyBuild({ config: quietConfig(data, plugins), quiet: true });
  const [conf] = flow.app.services.plugins.list(1);
  await flow.app.services.plugins.enable(1, conf.id);
  const sup = flow.app.services.plugins.host.list()[0];
  const pid = (sup.session ?? sup).pid;
  return { url: `${flow.url}/plugin/${conf.id}/custom/${conf.token}/hello`, base: flow.url, pid, close: () => flow.close() };
}

async function serveKoa() {
  const { default: Koa } = await import('koa');
  const { Router } = await import('@koa/router');
  const app = new Koa();
  const router = new Router();
  // The same work as the plugin's handler, plus reading the body as the relay does.
  router.all('/plugin/:id/custom/:token{/*rest}', async (ctx) => {
    const chunks = [];
    for await (const c of ctx.req) chunks.push(c);
    Buffer.concat(chunks);
    ctx.status = 200;
    ctx.body = 'hello';
  });
  app.use(router.routes());
  const server = createServer(app.callback());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/plugin/1/custom/Pbaseline/hello`, close: () => new Promise((r) => server.close(r)) };
}

async function child(mode, args) {
  if (mode === '--startup') {
    console.log(JSON.stringify(await startupChild(...args)));
    return;
  }
  const srv = mode === '--serve-flow' ? await serveFlow(...args) : await serveKoa();
  console.log(JSON.stringify({ url: srv.url, base: srv.base, pid: srv.pid }));
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
  await srv.close();
}

// ---- parent --------------------------------------------------------------------------------
function run(args) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const first = new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.on('exit', (code) => reject(new Error(`bench child ${args[0]} exited with ${code}`)));
  });
  return { proc, exited, first };
}

const cannon = (url) =>
  new Promise((resolve, reject) => autocannon({ url, connections: CONNECTIONS, duration: SECONDS }, (err, res) => (err ? reject(err) : resolve(res))));

async function main() {
  const work = await mkdtemp(path.join(tmpdir(), 'flow-bench-plugins-'));
  try {
    // 1. startup
    let startup;
    if (!RELAY_ONLY) {
      const startPlugins = path.join(work, 'plugins-startup');
      await mkdir(startPlugins);
      await symlink(bundle('echo'), path.join(startPlugins, 'echo'));
      await symlink(bundle('minimal'), path.join(startPlugins, 'minimal'));
      await symlink(HELLO, path.join(startPlugins, 'hello'));
      const s = run(['--startup', path.join(work, 'data-startup'), startPlugins]);
      startup = await s.first;
      await s.exited;
    }
    if (STARTUP_ONLY) {
      const failures = reportStartup(startup);
      if (failures.length > 0) {
        console.log('MISSED: ' + failures.join('; '));
        process.exitCode = 1;
      }
      return;
    }

    // 2. webhook relay vs in-process
    const hookPlugins = path.join(work, 'plugins-hook');
    await mkdir(hookPlugins);
    await symlink(HELLO, path.join(hookPlugins, 'hello'));
    const flowSrv = run(['--serve-flow', path.join(work, 'data-hook'), hookPlugins]);
    const koaSrv = run(['--serve-koa']);
    const { url: flowUrl, base, pid: helloPid } = await flowSrv.first;
    const { url: koaUrl } = await koaSrv.first;
    const targets = { viaPlugin: flowUrl, sameStack: `${base}/version`, inProcess: koaUrl };
    for (const url of Object.values(targets)) await cannon(url); // warm-up, not reported
    // The machine is shared: the three runs take turns, ROUNDS times, and the median round counts.
    const runs = { viaPlugin: [], sameStack: [], inProcess: [] };
    const pids = { viaPlugin: [flowSrv.proc.pid, helloPid], sameStack: [flowSrv.proc.pid], inProcess: [koaSrv.proc.pid] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of Object.entries(targets)) {
        const before = pids[name].map(cpuUs);
        const res = await cannon(url);
        // µs of CPU per request: [server, plugin] (the plugin only for the relay).
        res.cpuPerReq = pids[name].map((pid, i) => (cpuUs(pid) - before[i]) / res.requests.total);
        runs[name].push(res);
      }
    }
    const median = (list) => [...list].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(list.length / 2)];
    const viaPlugin = median(runs.viaPlugin);
    const sameStack = median(runs.sameStack);
    const inProcess = median(runs.inProcess);
    const helloRss = rssMb(helloPid);
    flowSrv.proc.stdin.end();
    koaSrv.proc.stdin.end();
    await Promise.all([flowSrv.exited, koaSrv.exited]);

    const ratio = viaPlugin.requests.average / sameStack.requests.average;
    const bareRatio = viaPlugin.requests.average / inProcess.requests.average;
    console.log(`\nnode ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${ROUNDS} interleaved rounds`);
    const failures = startup ? reportStartup(startup) : [];
    console.log('run'.padEnd(28), 'req/s'.padStart(8), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'non-2xx'.padStart(8), 'CPU µs/req (server + plugin)'.padStart(30));
    for (const [name, r] of [['webhook via plugin', viaPlugin], ['in-process in Flow\'s Koa', sameStack], ['in-process in bare Koa', inProcess]]) {
      console.log(name.padEnd(28), r.requests.average.toFixed(0).padStart(8), String(r.latency.p50).padStart(7), String(r.latency.p99).padStart(7), String(r.non2xx).padStart(8), r.cpuPerReq.map((us) => us.toFixed(0)).join(' + ').padStart(30));
    }
    console.log(`webhook relay = ${(ratio * 100).toFixed(1)}% of the in-process handler in Flow's Koa (target >= 60%); ${(bareRatio * 100).toFixed(1)}% of bare Koa; p99 ${viaPlugin.latency.p99} ms (target < 10 ms); hello RSS after load ${helloRss.toFixed(1)} MB`);

    if (ratio < 0.6) failures.push('webhook relay below 60% of the in-process handler');
    if (viaPlugin.latency.p99 >= 10) failures.push('webhook p99 10 ms or more');
    if (viaPlugin.non2xx > 0 || viaPlugin.errors > 0) failures.push('webhook errors');
    if (failures.length > 0) {
      console.log('MISSED: ' + failures.join('; '));
      process.exitCode = 1;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Prints part 1's numbers; returns the targets it missed. */
function reportStartup(startup) {
  const total = startup.procs.reduce((n, p) => n + p.instances, 0);
  const enabled = startup.procs.reduce((n, p) => n + p.enabled, 0);
  console.log(`startup, ${startup.users} users × ${startup.procs.length} plugins: cold ${(startup.coldMs / 1000).toFixed(2)} s (confs and apps created), warm ${(startup.warmMs / 1000).toFixed(2)} s to ${enabled}/${total} instances created, configured and enabled (target < 5 s)`);
  for (const p of startup.procs) console.log(`  ${p.name.padEnd(8)} ${String(p.instances).padStart(6)} instances, RSS ${p.rssMb.toFixed(1)} MB (target < 100 MB)`);
  const failures = [];
  if (startup.warmMs >= 5000) failures.push('warm start took 5 s or more');
  if (startup.procs.length !== PLUGIN_COUNT) failures.push(`${startup.procs.length} of ${PLUGIN_COUNT} plugins running`);
  if (enabled !== total || total !== startup.users * PLUGIN_COUNT) failures.push(`only ${enabled}/${startup.users * PLUGIN_COUNT} instances enabled`);
  if (startup.procs.some((p) => !(p.rssMb < 100))) failures.push('a plugin process uses 100 MB or more');
  return failures;
}

const [mode, ...args] = process.argv.slice(2);
if (mode && !RELAY_ONLY && !STARTUP_ONLY) await child(mode, args);
else await main();
