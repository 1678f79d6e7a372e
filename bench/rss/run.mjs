#!/usr/bin/env node
// RSS plugin benchmark: one user with 1,000 feeds, bounded concurrency.
//
// 1. Serves N small RSS feeds (10 items each, ETag + 304 support) from a loopback HTTP server.
// 2. Runs the built plugin (plugins/rss/dist/flow-rss.mjs) as a child process through the kit's test
//    host, which plays the server: it answers message/send and keeps kv storage in memory.
// 3. Lets it poll: a first cycle (every feed fetched in full, current items marked seen), then CYCLES
//    more, before each of which NEW_SHARE of the feeds publish one new item (full 200 + one message)
//    and the others answer 304 Not Modified.
// 4. Reads the plugin process's CPU time (utime+stime) and memory (VmRSS, VmHWM) from /proc per cycle.
//
// The interval is shortened from 60 s to INTERVAL so a run takes about a minute: the work of one cycle
// does not depend on the interval, so CPU per cycle / 60 s is the load at the real interval.
//
// Env: RSS_BENCH_FEEDS (1000), RSS_BENCH_INTERVAL (10s), RSS_BENCH_CYCLES (3), RSS_BENCH_NEW_SHARE (0.1),
//      RSS_BENCH_CONCURRENCY (8), RSS_BENCH_LATENCY_MS (20: each answer is delayed this long, like a
//      remote server, so the concurrency limit is actually reached). Run: npm run build && node bench/rss/run.mjs
import { createServer } from 'node:http';
import { existsSync, readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestHost } from '@flow/plugin-kit/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = join(root, 'plugins', 'rss', 'dist', 'flow-rss.mjs');
const FEEDS = Number(process.env.RSS_BENCH_FEEDS ?? 1000);
const INTERVAL_S = Number.parseFloat(process.env.RSS_BENCH_INTERVAL ?? '10');
const CYCLES = Number(process.env.RSS_BENCH_CYCLES ?? 3);
const NEW_SHARE = Number(process.env.RSS_BENCH_NEW_SHARE ?? 0.1);
const CONCURRENCY = Number(process.env.RSS_BENCH_CONCURRENCY ?? 8);
const LATENCY_MS = Number(process.env.RSS_BENCH_LATENCY_MS ?? 20);
const TICK = 100; // getconf CLK_TCK on Linux

if (!existsSync(bundle)) {
  console.error(`missing ${bundle}: run \`npm run build\` (or \`npm run bundle -w @flow/plugin-rss\`) first`);
  process.exit(1);
}

// --- feeds -----------------------------------------------------------------------------------------
const feeds = Array.from({ length: FEEDS }, (_, f) => ({ next: 10, items: Array.from({ length: 10 }, (_, i) => 9 - i) }));
function xml(f) {
  const items = feeds[f].items
    .map((n) => `<item><title>Feed ${f} post ${n}</title><guid>f${f}-p${n}</guid><link>https://example.com/${f}/${n}</link><description>&lt;p&gt;Post ${n} of feed ${f}, a short summary.&lt;/p&gt;</description><pubDate>${new Date(Date.UTC(2026, 0, 1, 0, n)).toUTCString()}</pubDate></item>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed ${f}</title><link>https://example.com/${f}</link><description>bench</description>${items}</channel></rss>`;
}
const stats = { requests: 0, full: 0, notModified: 0, inFlight: 0, maxInFlight: 0 };
const server = createServer((req, res) => {
  const f = Number(/^\/feed\/(\d+)\.xml$/.exec(req.url ?? '')?.[1] ?? NaN);
  if (!(f >= 0 && f < FEEDS)) return void res.writeHead(404).end();
  stats.requests++;
  stats.inFlight++;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  res.on('close', () => stats.inFlight--);
  setTimeout(() => {
    const etag = `"${f}-${feeds[f].next}"`;
    if (req.headers['if-none-match'] === etag) {
      stats.notModified++;
      return void res.writeHead(304, { etag }).end();
    }
    stats.full++;
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag }).end(xml(f));
  }, LATENCY_MS);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

// --- plugin process -------------------------------------------------------------------------------
const host = await createTestHost({ command: [process.execPath, bundle], env: { FLOW_RSS_MIN_INTERVAL: '1s' } });
const pid = findChild(bundle);
const inst = await host.createInstance();
const yaml = [`interval: ${INTERVAL_S}s`, `concurrency: ${CONCURRENCY}`, 'timeout: 20s', 'feeds:', ...feeds.map((_, f) => `  - ${base}/feed/${f}.xml`)].join('\n');
await inst.setConfig(yaml);

function findChild(script) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(script)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error('plugin process not found');
}
function sample() {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}
async function until(predicate, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// --- cycles ---------------------------------------------------------------------------------------
const rows = [];
let before = sample();
const idle = before;
let started = Date.now();
await inst.enable();
await until(() => stats.requests >= FEEDS && stats.inFlight === 0 && inst.kv.size >= FEEDS, 'first cycle', 120_000);
let after = sample();
rows.push({ cycle: 'first poll (all 200, mark seen)', wallMs: Date.now() - started, cpuMs: after.cpuMs - before.cpuMs, rssMb: after.rssMb, messages: host.messages.length, full: stats.full, notModified: stats.notModified });

for (let c = 1; c <= CYCLES; c++) {
  const target = stats.requests + FEEDS;
  const full0 = stats.full;
  const nm0 = stats.notModified;
  const msgs0 = host.messages.length;
  const publishing = Math.round(FEEDS * NEW_SHARE);
  for (let k = 0; k < publishing; k++) {
    const f = (k * 7 + c * 13) % FEEDS;
    feeds[f].items.unshift(feeds[f].next++);
    feeds[f].items.length = 10;
  }
  before = sample();
  // The cycle starts when the first timer of the next round fires; measure from the first request.
  await until(() => stats.requests > target - FEEDS, `cycle ${c} start`, INTERVAL_S * 1000 + 60_000);
  started = Date.now();
  await until(() => stats.requests >= target && stats.inFlight === 0 && host.messages.length >= msgs0 + publishing, `cycle ${c}`, 120_000);
  after = sample();
  rows.push({
    cycle: `cycle ${c} (${publishing} new items)`,
    wallMs: Date.now() - started,
    cpuMs: after.cpuMs - before.cpuMs,
    rssMb: after.rssMb,
    messages: host.messages.length - msgs0,
    full: stats.full - full0,
    notModified: stats.notModified - nm0,
  });
}
const final = sample();
const display = await inst.display();
await inst.disable();
const exitCode = await host.close();
server.closeAllConnections();
server.close();

// --- report ---------------------------------------------------------------------------------------
const steady = rows.slice(1);
const cpuPerCycle = steady.reduce((s, r) => s + r.cpuMs, 0) / Math.max(1, steady.length);
console.log(`RSS plugin: ${FEEDS} feeds, interval ${INTERVAL_S}s (stands for 60 s), concurrency ${CONCURRENCY}, server latency ${LATENCY_MS} ms, Node ${process.version}, plugin pid ${pid}`);
console.log('| phase | wall (ms) | plugin CPU (ms) | RSS after (MB) | 200s | 304s | messages |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.cycle} | ${r.wallMs} | ${r.cpuMs.toFixed(0)} | ${r.rssMb.toFixed(1)} | ${r.full} | ${r.notModified} | ${r.messages} |`);
console.log(`RSS configured but idle: ${idle.rssMb.toFixed(1)} MB; peak RSS (VmHWM): ${final.hwmMb.toFixed(1)} MB; max concurrent requests seen by the feed server: ${stats.maxInFlight} (limit ${CONCURRENCY})`);
console.log(`steady state: ${cpuPerCycle.toFixed(0)} ms CPU per cycle = ${((cpuPerCycle / 60_000) * 100).toFixed(2)}% of one core at a 60 s interval`);
const problems = [];
if (exitCode !== 0) problems.push(`plugin exited with ${exitCode}`);
if (stats.maxInFlight > CONCURRENCY) problems.push(`concurrency exceeded: ${stats.maxInFlight}`);
if (host.violations.length > 0) problems.push(`protocol violations: ${host.violations.slice(0, 3).join('; ')}`);
if (!display.includes(`Polling ${FEEDS} feeds`)) problems.push('display did not list the feeds');
const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'rss.json'), JSON.stringify({ feeds: FEEDS, intervalS: INTERVAL_S, concurrency: CONCURRENCY, rows, idleRssMb: idle.rssMb, peakRssMb: final.hwmMb, maxInFlight: stats.maxInFlight, cpuPerCycleMs: cpuPerCycle, problems }, null, 2));
if (problems.length > 0) {
  console.error(`FAILED: ${problems.join('; ')}`);
  process.exit(1);
}
