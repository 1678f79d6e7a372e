#!/usr/bin/env node
// bench/protocol: host → plugin round trips per second over a child's stdin/stdout, side by
// side in one run:
//   ndjson        the ceiling: raw newline-delimited JSON, no library on either side
//   stock         vscode-jsonrpc with its stock StreamMessageReader/Writer on both sides
//   flow          the host as the server runs it (vscode-jsonrpc connection over
//                 @flow/protocol's FramedMessageReader/Writer, maxParallelism) and a plugin
//                 written with @flow/plugin-kit
//   flow-host+stock-plugin, stock-host+kit-plugin, flow without maxParallelism: one thing
//                 changed at a time, to see where the time goes
// Cases: `ping` sequentially and with 64 in flight; a nested call (webhook/request → the
// plugin calls kv/get on the host → reply) sequentially and with 64 in flight.
//
// Needs the built packages (`npx tsc -b`); `npm run bench` builds first.
// Usage: node bench/protocol/run.mjs [--rounds 5] [--quick] [--only flow,stock] [--json out.json]
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { createStreamTransport, PROTOCOL_VERSION, DEFAULT_MAX_FRAME_BYTES, DEFAULT_STORAGE_QUOTA_BYTES, DEFAULT_WEBHOOK_BODY_BYTES } from '@flow/protocol';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const quick = args.includes('--quick');
const rounds = Number(option('--rounds', quick ? 1 : 5));
const jsonOut = option('--json', undefined);
const N = quick
  ? { warm: 300, seq: 1000, pipe: 5000, nestedSeq: 500, nestedPipe: 3000 }
  : { warm: 2000, seq: 3000, pipe: 20000, nestedSeq: 1500, nestedPipe: 10000 };
const IN_FLIGHT = 64;
/** `--child-args "--cpu-prof"`: node options for the plugin processes (profiling). */
const childExecArgs = option('--child-args', '').split(' ').filter(Boolean);

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

function startChild(script) {
  const child = spawn(process.execPath, [...childExecArgs, here(script)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FLOW_PLUGIN_PROTOCOL: PROTOCOL_VERSION },
  });
  return child;
}

const stopChild = (child) =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.end();
  });

const webhookParams = { instanceId: '1', method: 'GET', path: '/x', query: '', headers: {}, body: '' };

/** Raw NDJSON client: one write per message, replies split on newlines. */
async function ndjsonClient() {
  const child = startChild('ndjson-echo.mjs');
  const pending = new Map();
  let nextId = 1;
  let rest = '';
  const send = (message) => child.stdin.write(`${JSON.stringify(message)}\n`);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      const message = JSON.parse(line);
      if (message.method === 'kv/get') {
        send({ jsonrpc: '2.0', id: message.id, result: { value: '1' } });
        continue;
      }
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve(message.result);
    }
  });
  const request = (method, params) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      send({ jsonrpc: '2.0', id, method, params });
    });
  return {
    ping: () => request('ping', {}),
    nested: () => request('webhook/request', webhookParams),
    pid: child.pid,
    close: () => stopChild(child),
  };
}

const initializeParams = {
  protocolVersions: [PROTOCOL_VERSION],
  host: { name: 'bench', version: '0' },
  limits: { maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, storageQuotaBytes: DEFAULT_STORAGE_QUOTA_BYTES, webhookBodyBytes: DEFAULT_WEBHOOK_BODY_BYTES },
};

/** A vscode-jsonrpc host over either transport, talking to either plugin. */
async function rpcClient({ transport, plugin, maxParallelism = transport === 'flow' }) {
  const child = startChild(plugin === 'kit' ? 'kit-plugin.mjs' : 'stock-plugin.mjs');
  let connection;
  if (transport === 'flow') {
    const { reader, writer } = createStreamTransport(child.stdout, child.stdin);
    // maxParallelism makes vscode-jsonrpc settle responses as they are read instead of one per setImmediate.
    connection = createMessageConnection(reader, writer, undefined, maxParallelism ? { maxParallelism: 1024 } : undefined);
  } else {
    connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  }
  connection.onRequest('kv/get', () => ({ value: '1' }));
  connection.onNotification('log/write', () => undefined);
  connection.onClose(() => connection.dispose());
  connection.listen();
  if (plugin === 'kit') {
    await connection.sendRequest('initialize', initializeParams);
    await connection.sendNotification('initialized', {});
    await connection.sendRequest('instance/create', { instanceId: '1', user: { id: 1, name: 'bench', admin: false }, webhookBasePath: '/plugin/1/custom/Pbench/' });
    await connection.sendRequest('instance/enable', { instanceId: '1' });
  }
  return {
    ping: () => connection.sendRequest('ping', {}),
    nested: () => connection.sendRequest('webhook/request', webhookParams),
    pid: child.pid,
    close: async () => {
      if (plugin === 'kit') await connection.sendRequest('shutdown', {}).catch(() => undefined);
      connection.dispose();
      await stopChild(child);
    },
  };
}

/**
 * CPU time of a process's main thread in ns (/proc/<pid>/schedstat, Linux). Unlike wall-clock
 * throughput it hardly moves when other processes compete for the cores, so it shows where
 * the time goes even on a busy machine.
 */
function cpuNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

async function measured(client, run, count) {
  const host0 = cpuNs(process.pid);
  const plugin0 = cpuNs(client.pid);
  const result = await run();
  result.hostCpuUs = (cpuNs(process.pid) - host0) / 1000 / count;
  result.pluginCpuUs = (cpuNs(client.pid) - plugin0) / 1000 / count;
  return result;
}

async function sequential(call, count) {
  const latencies = new Float64Array(count);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  return { opsPerSec: count / seconds, p50us: latencies[Math.floor(count * 0.5)], p99us: latencies[Math.floor(count * 0.99)] };
}

async function pipelined(call, count, inFlight) {
  let started = 0;
  const start = process.hrtime.bigint();
  const lane = async () => {
    while (started < count) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { opsPerSec: count / (Number(process.hrtime.bigint() - start) / 1e9) };
}

const VARIANTS = [
  { name: 'ndjson', make: ndjsonClient },
  { name: 'stock', make: () => rpcClient({ transport: 'stock', plugin: 'stock' }) },
  { name: 'flow', make: () => rpcClient({ transport: 'flow', plugin: 'kit' }) },
  { name: 'flow, host without maxParallelism', make: () => rpcClient({ transport: 'flow', plugin: 'kit', maxParallelism: false }) },
  { name: 'flow-host+stock-plugin', make: () => rpcClient({ transport: 'flow', plugin: 'stock' }) },
  { name: 'stock-host+kit-plugin', make: () => rpcClient({ transport: 'stock', plugin: 'kit' }) },
];

const CASES = [
  { name: 'ping, sequential', run: (c) => measured(c, () => sequential(c.ping, N.seq), N.seq) },
  { name: `ping, ${IN_FLIGHT} in flight`, run: (c) => measured(c, () => pipelined(c.ping, N.pipe, IN_FLIGHT), N.pipe) },
  { name: 'nested, sequential', nested: true, run: (c) => measured(c, () => sequential(c.nested, N.nestedSeq), N.nestedSeq) },
  { name: `nested, ${IN_FLIGHT} in flight`, nested: true, run: (c) => measured(c, () => pipelined(c.nested, N.nestedPipe, IN_FLIGHT), N.nestedPipe) },
];

// All clients start first and stay up, so each round runs the variants back to back per case:
// the share of the NDJSON ceiling is computed within a round (same machine load), then the
// median over rounds is reported.
const onlyVariants = option('--only', undefined)?.split(',');
const clients = [];
for (const variant of VARIANTS) {
  if (onlyVariants && !onlyVariants.includes(variant.name) && variant.name !== 'ndjson' && variant.name !== 'stock') continue;
  const client = await variant.make();
  await pipelined(client.ping, N.warm, IN_FLIGHT);
  if (client.nested) await pipelined(client.nested, N.warm, IN_FLIGHT);
  clients.push([variant.name, client]);
}
const results = {}; // case -> variant -> [runs]
for (let round = 0; round < rounds; round++) {
  for (const c of CASES) {
    for (const [name, client] of clients) {
      if (c.nested && !client.nested) continue;
      const result = await c.run(client);
      ((results[c.name] ??= {})[name] ??= []).push(result);
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds} done\n`);
}
for (const [, client] of clients) await client.close();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`\nbench/protocol: Node ${process.version}, ${rounds} round(s); ops/s = median; % and × = median of the per-round ratios (variants run back to back in each round)`);
for (const c of CASES) {
  const byVariant = results[c.name];
  const base = byVariant.ndjson;
  console.log(`\n${c.name}`);
  console.log(`| variant | ops/s | % of NDJSON | × stock | host CPU µs/op | plugin CPU µs/op | p50 µs | p99 µs | runs (ops/s) |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [name, runs] of Object.entries(byVariant)) {
    const ops = median(runs.map((r) => r.opsPerSec));
    const share = median(runs.map((r, i) => r.opsPerSec / base[i].opsPerSec));
    const vsStock = median(runs.map((r, i) => r.opsPerSec / byVariant.stock[i].opsPerSec));
    const p50 = runs[0].p50us === undefined ? '' : Math.round(median(runs.map((r) => r.p50us)));
    const p99 = runs[0].p99us === undefined ? '' : Math.round(median(runs.map((r) => r.p99us)));
    const hostCpu = median(runs.map((r) => r.hostCpuUs)).toFixed(1);
    const pluginCpu = median(runs.map((r) => r.pluginCpuUs)).toFixed(1);
    console.log(`| ${name} | ${fmt(ops)} | ${(100 * share).toFixed(0)}% | ${vsStock.toFixed(2)} | ${hostCpu} | ${pluginCpu} | ${p50} | ${p99} | ${runs.map((r) => fmt(r.opsPerSec)).join(' / ')} |`);
  }
}
// Target (issue 3): the flow host + kit plugin reach at least half the NDJSON ceiling at 64 in flight.
const TARGET_SHARE = 0.5;
const target = results[`ping, ${IN_FLIGHT} in flight`];
if (target.flow) {
  const flowShare = median(target.flow.map((r, i) => r.opsPerSec / target.ndjson[i].opsPerSec));
  const met = flowShare >= TARGET_SHARE;
  console.log(`\ntarget: flow ping with ${IN_FLIGHT} in flight ≥ ${100 * TARGET_SHARE}% of NDJSON: ${(100 * flowShare).toFixed(0)}% ${met ? 'OK' : 'MISSED'}`);
  process.exitCode = met ? 0 : 1;
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ node: process.version, rounds, counts: N, results }, null, 2));
