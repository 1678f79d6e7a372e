import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
const cpuUs = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10_000; };
function start(mode) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cmp-'));
  const child = spawn(process.execPath, ['bench/http.mjs', mode, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((r) => child.stdout.once('data', (d) => r({ child, url: JSON.parse(String(d)).url })));
}
const body = JSON.stringify({ title: 'bench', message: 'Backup of /srv/data finished in 42s, 1.2 GiB copied', priority: 5 });
const flow = await start('--serve');
const raw = await start('--serve-raw');
const admin = 'Basic ' + Buffer.from('admin:admin').toString('base64');
const app = await (await fetch(flow.url + '/application', { method: 'POST', headers: { Authorization: admin, 'Content-Type': 'application/json' }, body: '{"name":"p"}' })).json();
const run = async (s, token, secs) => {
  const c0 = cpuUs(s.child.pid);
  const r = await autocannon({ url: s.url + '/message', method: 'POST', connections: 10, duration: secs, headers: { 'X-Gotify-Key': token, 'Content-Type': 'application/json' }, body });
  return { rate: r.requests.average, cpu: (cpuUs(s.child.pid) - c0) / r.requests.total };
};
await run(flow, app.token, 2); await run(raw, 'Araw', 2);
for (let i = 0; i < Number(process.argv[2] ?? 3); i++) {
  const f = await run(flow, app.token, 4);
  const r = await run(raw, 'Araw', 4);
  console.log(`flow ${f.rate.toFixed(0)} req/s ${f.cpu.toFixed(0)} µs | raw ${r.rate.toFixed(0)} req/s ${r.cpu.toFixed(0)} µs | rate ${(f.rate / r.rate * 100).toFixed(0)}% cpu ×${(f.cpu / r.cpu).toFixed(2)}`);
}
flow.child.stdin.end(); raw.child.stdin.end();
