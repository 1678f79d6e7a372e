#!/usr/bin/env node
// CPU cost per request of Flow's Koa stack, in-process (server core; issue 2 and issue 4's relay).
// Not a test: prints numbers, has no target of its own, exits 0.
//
//   node bench/middleware.mjs            (after `npm run build`)
//   BENCH_REQUESTS=50000 node bench/middleware.mjs
//
// autocannon numbers on the shared 2-core VM swing by ±30% with other load, and most of a small
// request's cost is the kernel's TCP work, the same for every server. This bench leaves both out:
// it hands fake requests (an IncomingMessage and a ServerResponse on an unconnected socket) straight
// to `koa.callback()`, 10 in flight, and reads the process's CPU time per request
// (process.cpuUsage; the best of 5 runs). Cases, side by side:
// - GET /version: a bare Koa + @koa/router app vs Flow's app (request id, access log, error body,
//   clean path, static UI, CORS, routers), logging off as in the other benches, then with the
//   access log on (info level, written to a sink that drops the lines);
// - a webhook: the bare Koa handler of bench/plugins/run.mjs vs Flow relaying it to the hello
//   plugin (bench/plugins/hello-plugin.mjs) over JSON-RPC; the plugin's own CPU is not counted;
// - POST /message (~100-byte JSON, application token): the raw handler of bench/http.mjs
//   (node:http + classic-level, the same four keys in one batch) vs Flow. LevelDB's own threads are
//   in both numbers (process.cpuUsage counts every thread).
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { Router } from '@koa/router';
import { createLogger, startFlow } from '@flow/server';
import { rawPost } from './raw-post.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const IN_FLIGHT = 10;
const REPEATS = 5;
const HELLO = path.join(path.dirname(fileURLToPath(import.meta.url)), 'plugins', 'hello-plugin.mjs');
const HEADERS = { host: '127.0.0.1:8080', 'user-agent': 'bench', accept: '*/*' };
const VERSION = { version: '1.0.0', commit: 'bench', buildDate: '2026-11-24' };

function fakeRequest(method, url, headers = {}, body = undefined) {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = { ...HEADERS, ...headers };
  if (body !== undefined) req.push(body);
  req.push(null);
  // As Node's parser marks a fully received request; without it, reading the body ends in a
  // premature-close error that is built (stack and all) and ignored, which skews the numbers.
  req.complete = true;
  return [req, new ServerResponse(req)];
}

/** CPU time of this process's main thread so far, in µs (JS and the event loop; not LevelDB's threads). */
function mainThreadUs() {
  const f = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

/**
 * CPU µs per request (best of REPEATS) of `handler` answering GET `url` (or POST `post.body`).
 * `main` (the best run's main-thread share) is what bounds a server's rate while its database
 * threads have a core of their own.
 */
async function measure(handler, url, post = undefined) {
  const once = async () => {
    const [req, res] = post ? fakeRequest('POST', url, post.headers, post.body) : fakeRequest('GET', url);
    const done = post?.done(res);
    await handler(req, res);
    await done;
    if (res.statusCode !== 200) throw new Error(`${post ? 'POST' : 'GET'} ${url} answered ${res.statusCode}`);
  };
  for (let i = 0; i < 2000; i++) await once(); // warm-up: JIT, caches
  let best = Infinity;
  let bestMain = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const before = process.cpuUsage();
    const main0 = mainThreadUs();
    let left = REQUESTS;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => { while (left-- > 0) await once(); }));
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / REQUESTS);
    bestMain = Math.min(bestMain, (mainThreadUs() - main0) / REQUESTS);
  }
  lastMain = bestMain;
  return best;
}
/** The main-thread µs per request of the last measure() (best run). */
let lastMain = NaN;

function bareKoa() {
  const app = new Koa();
  const router = new Router();
  router.get('/version', (ctx) => {
    ctx.body = VERSION;
  });
  // The in-process baseline of bench/plugins/run.mjs.
  router.all('/plugin/:id/custom/:token{/*rest}', async (ctx) => {
    const chunks = [];
    for await (const c of ctx.req) chunks.push(c);
    Buffer.concat(chunks);
    ctx.status = 200;
    ctx.body = 'hello';
  });
  app.use(router.routes());
  return app.callback();
}

async function flowApp(work, level) {
  const plugins = path.join(work, `plugins-${level}`);
  await mkdir(plugins);
  await symlink(HELLO, path.join(plugins, 'hello'));
  const drop = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const flow = await startFlow({
    config: {
      'server.listenaddr': '127.0.0.1',
      'server.port': 0,
      datadir: path.join(work, `data-${level}`),
      passstrength: 4,
      pluginsdir: plugins,
      'plugins.watch': false,
      'plugins.pingintervalseconds': 0,
      'plugins.bundled': false,
      // Wait for the hello plugin however loaded the machine is (startFlow stops waiting after 2 s by default).
      'plugins.startwaitms': 600_000,
    },
    logger: createLogger({ level, destination: drop }),
  });
  const [conf] = flow.app.services.plugins.list(1);
  await flow.app.services.plugins.enable(1, conf.id);
  return { flow, handler: flow.app.koa.callback(), hook: `/plugin/${conf.id}/custom/${conf.token}/hello` };
}

const POST_BODY = Buffer.from(JSON.stringify({ title: 'bench', message: 'Backup of /srv/data finished in 42s, 1.2 GiB copied', priority: 5 }));
const postHeaders = (token) => ({ 'content-type': 'application/json', 'content-length': String(POST_BODY.length), 'x-gotify-key': token });
/**
 * Resolves when the handler has called res.end (Flow's handler resolves after it; the raw one
 * returns before its batch is written). A response on an unconnected socket never emits 'finish'.
 */
function ended(res) {
  if (res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const end = res.end;
    res.end = function (...args) {
      const out = end.apply(this, args);
      resolve();
      return out;
    };
  });
}

const work = await mkdtemp(path.join(tmpdir(), 'flow-bench-mw-'));
// BENCH_ONLY=post: only the POST /message pair.
if (process.env.BENCH_ONLY === 'post') {
  const quiet = await flowApp(work, 'silent');
  const app = await quiet.flow.app.services.applications.create(1, { name: 'bench' });
  const raw = await rawPost(path.join(work, 'raw-db'));
  // BENCH_POST_ROUNDS (3) alternating pairs: the machine is shared, so both see the same moments.
  const pairs = [];
  for (let r = 0; r < Number(process.env.BENCH_POST_ROUNDS ?? 3); r++) {
    const rawP = await measure(raw.handler, '/message', { headers: postHeaders('Araw'), body: POST_BODY, done: ended });
    const rawMain = lastMain;
    const flowP = await measure(quiet.handler, '/message', { headers: postHeaders(app.token), body: POST_BODY, done: ended });
    pairs.push({ rawP, rawMain, flowP, flowMain: lastMain });
  }
  await raw.close();
  await quiet.flow.close();
  await rm(work, { recursive: true, force: true });
  console.log(`node ${process.version}, ${REQUESTS} requests × ${REPEATS} runs, ${IN_FLIGHT} in flight, in-process; CPU per request, best run; load average ${loadavg()[0].toFixed(1)}`);
  for (const { rawP, rawMain, flowP, flowMain } of pairs) {
    console.log(
      `POST /message: Flow ${flowP.toFixed(1)} µs vs raw ${rawP.toFixed(1)} µs of CPU per message (×${(flowP / rawP).toFixed(2)}; raw ÷ Flow = ${((rawP / flowP) * 100).toFixed(0)}%); main thread Flow ${flowMain.toFixed(1)} µs vs raw ${rawMain.toFixed(1)} µs (raw ÷ Flow = ${((rawMain / flowMain) * 100).toFixed(0)}%)`,
    );
  }
  process.exit(0);
}
try {
  const bare = bareKoa();
  const quiet = await flowApp(work, 'silent');
  const rows = [
    ['GET /version, bare Koa', await measure(bare, '/version')],
    ["GET /version, Flow's stack", await measure(quiet.handler, '/version')],
  ];
  const loud = await flowApp(work, 'info');
  rows.push(["GET /version, Flow, access log on", await measure(loud.handler, '/version')]);
  await loud.flow.close();
  rows.push(['webhook, bare Koa handler', await measure(bare, '/plugin/1/custom/Pbaseline/hello')]);
  rows.push(['webhook, Flow relay to plugin', await measure(quiet.handler, quiet.hook)]);
  const app = await quiet.flow.app.services.applications.create(1, { name: 'bench' });
  const raw = await rawPost(path.join(work, 'raw-db'));
  rows.push(['POST /message, raw node:http + level', await measure(raw.handler, '/message', { headers: postHeaders('Araw'), body: POST_BODY, done: ended })]);
  rows.push(['POST /message, Flow', await measure(quiet.handler, '/message', { headers: postHeaders(app.token), body: POST_BODY, done: ended })]);
  await raw.close();
  await quiet.flow.close();

  console.log(`\nnode ${process.version}, ${REQUESTS} requests × ${REPEATS} runs, ${IN_FLIGHT} in flight, in-process (no sockets); CPU per request, best run`);
  for (const [name, us] of rows) console.log(name.padEnd(36), `${us.toFixed(1)} µs`.padStart(9));
  const [, bareV, flowV, loudV, bareH, relay, rawP, flowP] = [null, ...rows.map((r) => r[1])];
  console.log(`Flow's middleware adds ${(flowV - bareV).toFixed(1)} µs to a request (${(loudV - bareV).toFixed(1)} µs with the access log written); the relay adds ${(relay - bareH).toFixed(1)} µs of server CPU over the bare handler`);
  console.log(`POST /message: Flow ${flowP.toFixed(1)} µs vs raw ${rawP.toFixed(1)} µs of CPU per message (×${(flowP / rawP).toFixed(2)}; raw ÷ Flow = ${((rawP / flowP) * 100).toFixed(0)}%)`);
} finally {
  await rm(work, { recursive: true, force: true });
}
