#!/usr/bin/env node
// POST /message on one server: LevelDB against PostgreSQL, side by side in one run (issue 19).
// Not a test: prints numbers.
//
//   node bench/postgres.mjs        (after `npm run build`; needs Debian's postgresql 15)
//   BENCH_SECONDS=10 BENCH_ROUNDS=3 node bench/postgres.mjs
//
// 1. Starts one throwaway PostgreSQL 15 (test/helpers/db-servers.ts: temp dir, free loopback port,
//    fsync on, as a real server would run; synchronous_commit on, so a 200 means committed).
// 2. Each round runs Flow on LevelDB, then Flow on a fresh PostgreSQL database, each in its own
//    child process: autocannon, 10 connections, 1 s warm-up, then BENCH_SECONDS of POST /message
//    (application token, ~100-byte JSON). CPU µs per message of the server process and of the
//    PostgreSQL server processes (/proc) beside req/s.
// 3. Every 2xx must be stored: the server's own listing is counted after the run.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { tsImport } from 'tsx/esm/api';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = 10;

const cpuUs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};

/** CPU µs of every process whose command line starts with the PostgreSQL binaries (the cluster of this bench only runs them). */
const postgresCpuUs = (dataDir) => {
  let total = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // The postmaster names its data dir; its children are found by parent.
      if (cmdline.includes(dataDir) || postgresChildren.has(Number(p)) || postgresChildren.has(Number(stat.split(') ')[1].split(' ')[1]))) {
        postgresChildren.add(Number(p));
        total += cpuUs(p);
      }
    } catch {
      // gone meanwhile
    }
  }
  return total;
};
const postgresChildren = new Set();

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

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function measure(label, config, pgDataDir) {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-bench-pg-'));
  const server = await startServer({ ...config, datadir: dir });
  try {
    const admin = 'Basic ' + Buffer.from('admin:admin').toString('base64');
    const app = await (await fetch(server.url + '/application', { method: 'POST', headers: { Authorization: admin, 'Content-Type': 'application/json' }, body: '{"name":"bench"}' })).json();
    const body = JSON.stringify({ title: 'bench', message: 'Backup of /srv/data finished in 42s, 1.2 GiB copied', priority: 5 });
    const load = { url: server.url + '/message', method: 'POST', headers: { 'X-Gotify-Key': app.token, 'Content-Type': 'application/json' }, body };
    const warm = await cannon({ ...load, duration: 1 });
    const cpu0 = cpuUs(server.child.pid);
    const pg0 = pgDataDir ? postgresCpuUs(pgDataDir) : 0;
    const res = await cannon(load);
    const n = res.requests.total;
    const flowCpu = (cpuUs(server.child.pid) - cpu0) / n;
    const dbCpu = pgDataDir ? (postgresCpuUs(pgDataDir) - pg0) / n : 0;
    const listed = await (await fetch(server.url + '/message?limit=1', { headers: { Authorization: admin } })).json();
    const ok = res['2xx'];
    return { label, rps: res.requests.average, p99: res.latency.p99, ok, non2xx: res.non2xx + res.errors, flowCpu, dbCpu, lastId: listed.messages[0]?.id ?? 0, warm: warm['2xx'] };
  } finally {
    server.child.stdin.end();
    await server.exited;
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { startPostgres } = await tsImport('../test/helpers/db-servers.ts', import.meta.url);
  const server = await startPostgres({ fsync: true });
  const user = server.connection.match(/user=(\S+)/)[1];
  const pgDataDir = server.dataDir;
  const rows = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      rows.push({ round, ...(await measure('LevelDB', {})) });
      const name = `flow_bench_${round}`;
      const admin = new pg.Client({ host: '127.0.0.1', port: server.port, user, database: 'postgres' });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      rows.push({ round, ...(await measure('PostgreSQL', { 'database.dialect': 'postgres', 'database.connection': server.connection.replace(/dbname=\S+/, `dbname=${name}`) }, pgDataDir)) });
    }
  } finally {
    await server.stop();
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`POST /message, ${CONNECTIONS} connections, ${SECONDS} s per run, load average ${load}`);
  console.log('| round | store | req/s | p99 ms | 2xx | stored (last id) | Flow CPU µs/msg | PostgreSQL CPU µs/msg |');
  console.log('|---|---|---|---|---|---|---|---|');
  let failed = false;
  for (const r of rows) {
    // Ids start at 1 and every accepted message (warm-up included) is one id: the newest id is the count.
    if (r.lastId < r.ok + r.warm) failed = true;
    console.log(`| ${r.round} | ${r.label} | ${Math.round(r.rps)} | ${r.p99} | ${r.ok} | ${r.lastId} | ${Math.round(r.flowCpu)} | ${r.label === 'PostgreSQL' ? Math.round(r.dbCpu) : '–'} |`);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const [l, p] = rows.filter((r) => r.round === round);
    console.log(`round ${round}: PostgreSQL / LevelDB req/s = ${((p.rps / l.rps) * 100).toFixed(0)}%`);
  }
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
