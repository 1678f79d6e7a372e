#!/usr/bin/env node
// Several Flow replicas on one PostgreSQL (issue 19), side by side in one run. Not a test: prints
// numbers (a Markdown table for bench/README.md "cluster").
//
//   node bench/cluster.mjs        (after `npm run build`; needs Debian's postgresql 15)
//   BENCH_SECONDS=10 BENCH_ROUNDS=2 node bench/cluster.mjs
//
// 1. One throwaway PostgreSQL 15 (test/helpers/db-servers.ts: temp dir, free loopback port, fsync
//    on as a real server runs, synchronous_commit on: a 200 means committed).
// 2. POST /message rate: Flow on LevelDB alone, then 1, 2 and 3 replicas on a fresh PostgreSQL
//    database each (every replica its own process, `cluster.*` set as an operator would). The load
//    is spread over the replicas: CONNECTIONS in all, CONNECTIONS / n per replica, one autocannon
//    per replica at the same time, 1 s warm-up, then BENCH_SECONDS. Every 2xx must be stored
//    (counted in the database after the run).
//    CPU µs per message of all Flow processes and of the PostgreSQL processes (/proc) beside req/s:
//    on a machine of 2 cores, replicas share the cores, so the rate cannot grow; the CPU per
//    message shows what each replica adds.
// 3. Delivery latency, with 2 replicas: a client's /stream open on replica B, messages posted one at
//    a time on replica A (cross-replica) and on B itself (same replica, the baseline); latency from
//    sending the POST to the stream receiving it; p50 / p99 / max over BENCH_MESSAGES.
//    Cross-replica delivery is PostgreSQL LISTEN/NOTIFY (server/src/cluster/notify*); a build
//    without it delivers nothing across replicas, which the table says instead of a number.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { WebSocket } from 'ws';
import { tsImport } from 'tsx/esm/api';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300);
const CONNECTIONS = 12;
const SECRET = 'bench-cluster-secret-0123456789';
const ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

const cpuUs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};

/** CPU µs of the PostgreSQL server of this bench: the postmaster (its command line names the data dir) and its children. */
const postgresChildren = new Set();
const postgresCpuUs = (dataDir) => {
  let total = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const parent = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (cmdline.includes(dataDir) || postgresChildren.has(Number(p)) || postgresChildren.has(parent)) {
        postgresChildren.add(Number(p));
        total += cpuUs(p);
      }
    } catch {
      // gone meanwhile
    }
  }
  return total;
};

function startServer(config) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ url: JSON.parse(buf.slice(0, nl)).url, child, exited });
    });
    child.on('exit', (code) => reject(new Error('server exited early: ' + code)));
  });
}

async function stopServer(s) {
  s.child.stdin.end();
  await s.exited;
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ duration: SECONDS, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const json = async (url, init = {}) => (await fetch(url, { ...init, headers: { Authorization: ADMIN, 'Content-Type': 'application/json', ...init.headers } })).json();

/**
 * `n` servers (n = 0: one on LevelDB) with an application and a client made on the first before
 * the others start (so every replica knows them from its start, whatever else it learns later).
 */
async function startSet(n, database) {
  const dirs = [];
  const servers = [];
  const config = (i) => ({
    ...(database ? { 'database.dialect': 'postgres', 'database.connection': database } : {}),
    'cluster.secret': SECRET,
    'cluster.name': `r${i + 1}`,
  });
  const start = async (i) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flow-bench-cluster-'));
    dirs.push(dir);
    return startServer({ ...config(i), datadir: dir });
  };
  servers.push(await start(0));
  const app = await json(servers[0].url + '/application', { method: 'POST', body: '{"name":"bench"}' });
  const client = await json(servers[0].url + '/client', { method: 'POST', body: '{"name":"bench"}' });
  for (let i = 1; i < Math.max(n, 1); i++) servers.push(await start(i));
  return {
    servers,
    app,
    client,
    async stop() {
      await Promise.all(servers.map(stopServer));
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}

async function rate(label, n, database, countStored, pgDataDir) {
  const set = await startSet(n, database);
  try {
    const body = JSON.stringify({ title: 'bench', message: 'Backup of /srv/data finished in 42s, 1.2 GiB copied', priority: 5 });
    const loads = set.servers.map((s) => ({ url: s.url + '/message', method: 'POST', headers: { 'X-Gotify-Key': set.app.token, 'Content-Type': 'application/json' }, body, connections: CONNECTIONS / set.servers.length }));
    const warm = await Promise.all(loads.map((l) => cannon({ ...l, duration: 1 })));
    const flow0 = set.servers.reduce((a, s) => a + cpuUs(s.child.pid), 0);
    const pg0 = pgDataDir ? postgresCpuUs(pgDataDir) : 0;
    const runs = await Promise.all(loads.map((l) => cannon(l)));
    const flowCpu = set.servers.reduce((a, s) => a + cpuUs(s.child.pid), 0) - flow0;
    const dbCpu = pgDataDir ? postgresCpuUs(pgDataDir) - pg0 : 0;
    const measured = runs.reduce((a, r) => a + r.requests.total, 0);
    const ok = runs.reduce((a, r) => a + r['2xx'], 0) + warm.reduce((a, r) => a + r['2xx'], 0);
    const rps = runs.reduce((a, r) => a + r.requests.average, 0);
    const p99 = Math.max(...runs.map((r) => r.latency.p99));
    const failed = runs.reduce((a, r) => a + r.non2xx + r.errors, 0);
    const stored = countStored ? await countStored() : (await json(set.servers[0].url + '/message?limit=1')).messages[0]?.id ?? 0;
    return { label, replicas: set.servers.length, rps, p99, ok, failed, stored, flowCpu: flowCpu / measured, dbCpu: dbCpu / measured };
  } finally {
    await set.stop();
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Posts on `from`, one at a time, and times each message's arrival on the stream of `to`. */
async function latency(set, from, to) {
  const ws = new WebSocket(to.url.replace(/^http/, 'ws') + '/stream?token=' + set.client.token);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let waiting;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (waiting && m.message === waiting.text) waiting.resolve(performance.now());
  });
  const times = [];
  try {
    for (let i = 0; i < MESSAGES + 20; i++) {
      const text = `latency ${i} ${Math.random()}`;
      const arrived = new Promise((resolve) => (waiting = { text, resolve }));
      const t0 = performance.now();
      const res = await fetch(from.url + '/message', { method: 'POST', headers: { 'X-Gotify-Key': set.app.token, 'Content-Type': 'application/json' }, body: JSON.stringify({ message: text }) });
      await res.arrayBuffer();
      const t1 = await Promise.race([arrived, new Promise((r) => setTimeout(() => r(undefined), 3000))]);
      if (t1 === undefined) return undefined; // not delivered at all: no cross-replica delivery in this build
      if (i >= 20) times.push(t1 - t0);
    }
  } finally {
    ws.terminate();
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] };
}

async function main() {
  const { startPostgres } = await tsImport('../test/helpers/db-servers.ts', import.meta.url);
  const server = await startPostgres({ fsync: true });
  const user = server.connection.match(/user=(\S+)/)[1];
  let dbs = 0;
  const freshDb = async () => {
    const name = `flow_bench_cluster_${++dbs}`;
    const admin = new pg.Client({ host: '127.0.0.1', port: server.port, user, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const connection = server.connection.replace(/dbname=\S+/, `dbname=${name}`);
    const countStored = async () => {
      const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, database: name });
      await c.connect();
      const { rows } = await c.query('SELECT count(*)::int AS n FROM messages');
      await c.end();
      return rows[0].n;
    };
    return { connection, countStored };
  };
  const rows = [];
  let lat;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      rows.push({ round, ...(await rate('LevelDB', 0)) });
      for (const n of [1, 2, 3]) {
        const db = await freshDb();
        rows.push({ round, ...(await rate('PostgreSQL', n, db.connection, db.countStored, server.dataDir)) });
      }
    }
    const db = await freshDb();
    const set = await startSet(2, db.connection);
    try {
      const [a, b] = set.servers;
      lat = { same: await latency(set, b, b), cross: await latency(set, a, b) };
    } finally {
      await set.stop();
    }
  } finally {
    await server.stop();
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`POST /message, ${CONNECTIONS} connections in all spread over the replicas, ${SECONDS} s per run, load average ${load}`);
  console.log('| round | store | replicas | req/s (all replicas) | p99 ms (worst replica) | 2xx | stored | Flow CPU µs/msg (all replicas) | PostgreSQL CPU µs/msg | vs 1 replica |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  let failed = false;
  for (const r of rows) {
    const one = rows.find((x) => x.round === r.round && x.label === 'PostgreSQL' && x.replicas === 1);
    if (r.stored < r.ok) failed = true;
    const vs = r.label === 'PostgreSQL' ? `${((r.rps / one.rps) * 100).toFixed(0)}%` : `PostgreSQL ×1 / LevelDB = ${((one.rps / r.rps) * 100).toFixed(0)}%`;
    console.log(`| ${r.round} | ${r.label} | ${r.replicas} | ${Math.round(r.rps)} | ${r.p99} | ${r.ok} | ${r.stored} | ${Math.round(r.flowCpu)} | ${r.label === 'PostgreSQL' ? Math.round(r.dbCpu) : '–'} | ${vs} |`);
  }
  const fmt = (l) => (l ? `${l.p50.toFixed(1)} / ${l.p99.toFixed(1)} / ${l.max.toFixed(1)}` : 'not delivered (no cross-replica delivery in this build)');
  console.log(`\nDelivery POST → /stream, 2 replicas on PostgreSQL, ${MESSAGES} messages one at a time (p50 / p99 / max ms):`);
  console.log(`| path | latency |\n|---|---|\n| same replica (post on B, stream on B) | ${fmt(lat.same)} |\n| cross replica (post on A, stream on B) | ${fmt(lat.cross)} |`);
  if (lat.same && lat.cross) console.log(`cross / same p99 = ×${(lat.cross.p99 / lat.same.p99).toFixed(2)}`);
  if (failed) {
    console.error('an accepted message is missing from the store');
    process.exit(1);
  }
}

async function serve(config) {
  const { startFlow } = await import('@flow/server');
  const flow = await startFlow({ config: { 'server.listenaddr': '127.0.0.1', 'server.port': 0, passstrength: 4, 'plugins.bundled': false, ...config }, quiet: true });
  process.stdout.write(JSON.stringify({ url: flow.url }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => void flow.close().then(() => process.exit(0)));
}

if (process.argv[2] === '--serve') await serve(JSON.parse(process.argv[3]));
else await main();
