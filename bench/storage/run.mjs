#!/usr/bin/env node
// Storage benchmark (issue 15): bulk deletes over 1,000,000 messages must not stall the server.
// Not a test: prints numbers and checks targets.
//
//   node bench/storage/run.mjs                 (after `npm run build`; ~3-6 min, most of it seeding)
//   BENCH_MESSAGES=200000 node bench/storage/run.mjs   (a smaller run; the split below scales)
//
// 1. Seeds BENCH_MESSAGES (1,000,000) messages straight into LevelDB through the store's own
//    insert ops, 5,000 messages per batch (no HTTP: it would take an hour):
//      admin: app "per-app" 10%, app "retention" 10%, app "doomed" 10%, app "rest" 40% (DELETE /message)
//      user "leaver": 30% (DELETE /user)
//      user "bystander": 2,000 messages; it posts during every delete (other users' POST /message).
// 2. Starts the server in a child process (so probes do not share its event loop) and measures
//    the idle latency of GET /health (probed every 10 ms for 3 s).
// 3. Runs each delete kind in turn: DELETE /application/:id/message, retention (maxCount 1,000
//    set by PUT), DELETE /application/:id, DELETE /user/:id, DELETE /message. During each, until
//    the child reports the purge done (keys removed and ranges compacted), GET /health and the
//    bystander's POST /message are each sent every 10 ms; their max and p99 are reported beside
//    the idle p99, and the child's RSS is sampled every 20 ms (peak minus idle).
// 4. Listing before / after: GET /application/:id/message?limit=100 of the per-app application
//    while it is full and right after its purge (mean of 200), and GET /message of the admin.
// Each delete also gets 3 s of the same probes right before it (its idle baseline: the machine is
// shared, and its load moves). Targets: /health and the bystander's POST max < 100 ms, RSS within
// +100 MB of idle, listing after ≤ 2× before.
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const BYSTANDER = 2000;
const BATCH = 5000;
const PROBE_MS = 10;
const self = fileURLToPath(import.meta.url);
const config = (dir) => ({ datadir: dir, 'server.listenaddr': '127.0.0.1', 'server.port': 0, passstrength: 4, 'log.level': 'silent' });
const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
const admin = 'Basic ' + Buffer.from('admin:admin').toString('base64');

// ---- seeding (parent, before the server starts) --------------------------------------------
async function seed(dir) {
  const { startFlow } = await import('@flow/server');
  const flow = await startFlow({ config: config(dir), quiet: true });
  const store = flow.app.store;
  const hash = store.users.list()[0].passHash;
  const leaver = await store.users.create({ name: 'leaver', passHash: hash, admin: false });
  // The bystander logs in with Basic, so it gets a real hash of its password.
  const bystander = await flow.app.services.users.create({ name: 'bystander', pass: 'bystander', admin: false });
  const mkApp = (userId, name) =>
    store.applications.create({ userId, token: 'Abench' + name, name, description: '', internal: false, image: '', defaultPriority: 0, lastUsed: null, sortKey: '' });
  const apps = {
    perApp: await mkApp(1, 'perapp'),
    retention: await mkApp(1, 'retention'),
    doomed: await mkApp(1, 'doomed'),
    rest: await mkApp(1, 'rest'),
    leaver: await mkApp(leaver.id, 'leaver'),
    bystander: await mkApp(bystander.id, 'bystander'),
  };
  const share = [
    [apps.perApp, 0.1],
    [apps.retention, 0.1],
    [apps.doomed, 0.1],
    [apps.rest, 0.4],
    [apps.leaver, 0.3],
  ];
  const t0 = performance.now();
  // Interleaved like real traffic: each batch spreads over every application by its share.
  const plan = [];
  for (const [app, f] of share) plan.push({ app, left: Math.round(TOTAL * f) });
  plan.push({ app: apps.bystander, left: BYSTANDER });
  const date = new Date().toISOString();
  let written = 0;
  const all = plan.reduce((n, p) => n + p.left, 0);
  while (written < all) {
    const ops = [];
    for (let i = 0; i < BATCH && written < all; i++) {
      // Weighted round robin without randomness: pick the plan with the most left relative to its size.
      const p = plan.reduce((best, q) => (q.left > best.left ? q : best));
      p.left--;
      const { ops: o } = store.messages.insertOps({ appId: p.app.id, userId: p.app.userId, message: 'Backup of /srv/data finished in 42s, 1.2 GiB copied', title: 'bench', priority: 5, date });
      ops.push(...o);
      written++;
    }
    await store.db.batch(ops);
  }
  await flow.close();
  return { apps, leaverId: leaver.id, seedMs: performance.now() - t0, written };
}

// ---- child: the server ------------------------------------------------------------------------
async function serve(dir) {
  // BENCH_SERVER=/path/to/server/dist/flow.js runs another build (e.g. one from before the purger) on the same seed.
  const { startFlow } = await import(process.env.BENCH_SERVER ?? '@flow/server');
  const flow = await startFlow({ config: config(dir), quiet: true });
  let sampler;
  let peak = 0;
  process.on('message', async (msg) => {
    if (msg.cmd === 'idle') {
      // Retention checks run in a queue: a sweep queued now runs after the one the PUT started.
      // (A build without purger deleted everything inside the request.)
      await flow.app.services.retention?.sweep();
      await flow.app.store.messages.purger?.idle();
      process.send({ reply: 'idle' });
    } else if (msg.cmd === 'rss-start') {
      peak = process.memoryUsage().rss;
      sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      process.send({ reply: 'rss-start', rss: peak });
    } else if (msg.cmd === 'rss-stop') {
      clearInterval(sampler);
      process.send({ reply: 'rss-stop', peak });
    } else if (msg.cmd === 'stop') {
      await flow.close();
      process.exit(0);
    }
  });
  process.send({ reply: 'ready', url: flow.url, retention: flow.app.services.retention !== undefined });
}

// ---- parent ------------------------------------------------------------------------------------
function startChild(dir) {
  const child = fork(self, ['--serve', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const waiting = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.reply);
    if (w) {
      waiting.delete(m.reply);
      w(m);
    }
  });
  const ask = (cmd) => new Promise((resolve) => {
    waiting.set(cmd === 'ready' ? 'ready' : cmd, resolve);
    if (cmd !== 'ready') child.send({ cmd });
  });
  return { child, ask, exited };
}

/** Sends `fn` every PROBE_MS until `stop()`; returns the latencies (ms). Requests do not overlap. */
function prober(fn) {
  const lat = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      await fn();
      const ms = performance.now() - t0;
      lat.push(ms);
      if (ms < PROBE_MS) await new Promise((r) => setTimeout(r, PROBE_MS - ms));
    }
  })();
  return async () => {
    running = false;
    await done;
    return lat.sort((a, b) => a - b);
  };
}

async function meanMs(fn, n = 200) {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-bench-storage-'));
  try {
    const seeded = await seed(dir);
    console.log(`seeded ${seeded.written.toLocaleString('en')} messages in ${(seeded.seedMs / 1000).toFixed(1)} s`);
    const { child, ask, exited } = startChild(dir);
    const { url, retention: hasRetention } = await ask('ready');
    if (process.env.BENCH_SERVER) console.log(`server build: ${process.env.BENCH_SERVER}`);
    const get = async (p, auth = admin) => {
      const r = await fetch(url + p, { headers: { Authorization: auth } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`GET ${p}: ${r.status}`);
    };
    const send = async (method, p, body) => {
      const r = await fetch(url + p, { method, headers: { Authorization: admin, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    };
    const health = () => get('/health', undefined);
    const bystanderPost = async () => {
      const r = await fetch(url + '/message', { method: 'POST', headers: { 'X-Gotify-Key': seeded.apps.bystander.token, 'Content-Type': 'application/json' }, body: '{"message":"still here"}' });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error('bystander POST: ' + r.status);
    };

    // Idle latency.
    const stopIdleHealth = prober(health);
    const stopIdlePost = prober(bystanderPost);
    await new Promise((r) => setTimeout(r, 3000));
    const idleHealth = await stopIdleHealth();
    const idlePost = await stopIdlePost();

    const perApp = seeded.apps.perApp.id;
    const listApp = () => get(`/application/${perApp}/message?limit=100`);
    const listUser = () => get('/message?limit=100');
    const listBefore = { app: await meanMs(listApp), user: await meanMs(listUser) };

    const kinds = [
      ['DELETE /application/:id/message (10%)', () => send('DELETE', `/application/${perApp}/message`)],
      ['retention: maxCount 1,000 (10%)', () => send('PUT', `/application/${seeded.apps.retention.id}`, { name: 'retention', retention: { maxCount: 1000 } })],
      ['DELETE /application/:id (10%)', () => send('DELETE', `/application/${seeded.apps.doomed.id}`)],
      ['DELETE /user/:id (30%)', () => send('DELETE', `/user/${seeded.leaverId}`)],
      ['DELETE /message (40% + the rest of the admin)', () => send('DELETE', '/message')],
    ];
    const rows = [];
    let listAfter;
    for (const [name, run] of kinds) {
      if (name.startsWith('retention') && !hasRetention) continue;
      // The same probes for 3 s right before: this machine's load moves, so each delete gets its own idle baseline.
      const stopBaseHealth = prober(health);
      const stopBasePost = prober(bystanderPost);
      await new Promise((r) => setTimeout(r, 3000));
      const baseHealth = await stopBaseHealth();
      const basePost = await stopBasePost();
      const { rss: rssIdle } = await ask('rss-start');
      const stopHealth = prober(health);
      const stopPost = prober(bystanderPost);
      const t0 = performance.now();
      await run();
      const answeredMs = performance.now() - t0;
      await ask('idle');
      const purgeMs = performance.now() - t0;
      const h = await stopHealth();
      const p = await stopPost();
      const { peak } = await ask('rss-stop');
      rows.push({ name, answeredMs, purgeMs, health: h, post: p, baseHealth, basePost, rssMb: (peak - rssIdle) / 1048576 });
      if (name.startsWith('DELETE /application/:id/message')) listAfter = { app: await meanMs(listApp), user: await meanMs(listUser) };
    }
    child.send({ cmd: 'stop' });
    await exited;

    const f = (n) => n.toFixed(1).padStart(7);
    console.log(`\nnode ${process.version}; probes every ${PROBE_MS} ms; idle: GET /health p99 ${idleHealth.at(-1) === undefined ? '-' : pct(idleHealth, 99).toFixed(1)} ms (max ${idleHealth.at(-1).toFixed(1)}), bystander POST p99 ${pct(idlePost, 99).toFixed(1)} ms (max ${idlePost.at(-1).toFixed(1)})`);
    console.log('delete'.padEnd(48), 'answer ms'.padStart(9), 'purge s'.padStart(8), '/health p99 idle→during'.padStart(24), 'max'.padStart(7), 'POST p99 idle→during'.padStart(21), 'max'.padStart(7), 'RSS +MB'.padStart(8));
    const failures = [];
    for (const r of rows) {
      console.log(
        r.name.padEnd(48),
        r.answeredMs.toFixed(1).padStart(9),
        (r.purgeMs / 1000).toFixed(1).padStart(8),
        `${pct(r.baseHealth, 99).toFixed(1)} → ${pct(r.health, 99).toFixed(1)}`.padStart(24),
        f(r.health.at(-1)),
        `${pct(r.basePost, 99).toFixed(1)} → ${pct(r.post, 99).toFixed(1)}`.padStart(21),
        f(r.post.at(-1)),
        f(r.rssMb).padStart(8),
      );
      if (r.health.at(-1) >= 100) failures.push(`${r.name}: /health max ${r.health.at(-1).toFixed(0)} ms`);
      if (r.post.at(-1) >= 100) failures.push(`${r.name}: bystander POST max ${r.post.at(-1).toFixed(0)} ms`);
      if (r.rssMb > 100) failures.push(`${r.name}: RSS +${r.rssMb.toFixed(0)} MB`);
    }
    console.log(`\nlisting (mean of 200, ms): GET /application/:id/message?limit=100 before ${listBefore.app.toFixed(2)} (100,000 messages) → after ${listAfter.app.toFixed(2)} (emptied, purged, compacted): ×${(listAfter.app / listBefore.app).toFixed(2)}`);
    console.log(`                          GET /message?limit=100 (admin)       before ${listBefore.user.toFixed(2)} → after ${listAfter.user.toFixed(2)}: ×${(listAfter.user / listBefore.user).toFixed(2)}`);
    if (listAfter.app > 2 * listBefore.app) failures.push(`application listing after the delete ×${(listAfter.app / listBefore.app).toFixed(1)}`);
    if (listAfter.user > 2 * listBefore.user) failures.push(`user listing after the delete ×${(listAfter.user / listBefore.user).toFixed(1)}`);
    console.log(failures.length === 0 ? '\nall targets met' : '\nMISSED: ' + failures.join('; '));
    process.exitCode = failures.length === 0 ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();
