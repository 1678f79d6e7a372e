/**
 * The durability claims of the README, one by one: what survives a process crash (SIGKILL
 * while writes are in flight) and a power cut (simulated by cutting LevelDB's log short, which
 * is what unsynced writes look like after one). A full disk: reliability-disk-full.test.ts.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SERVER_ENTRY = fileURLToPath(new URL('../../server/dist/flow.js', import.meta.url));

let data: string;
let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
  await rm(data, { recursive: true, force: true });
});

/** A server in a child process that sends messages as fast as it can and prints each acknowledged id. */
async function sendUntilKilled(): Promise<{ acked: number[]; appId: number }> {
  data = await mkdtemp(path.join(tmpdir(), 'flow-durable-'));
  const script = `
    const { startFlow } = await import(${JSON.stringify(SERVER_ENTRY)});
    const flow = await startFlow({ quiet: true, config: { 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: ${JSON.stringify(data)}, passstrength: 4, 'plugins.bundled': false } });
    const auth = { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64'), 'content-type': 'application/json' };
    const app = await (await fetch(flow.url + '/application', { method: 'POST', headers: auth, body: '{"name":"d"}' })).json();
    console.log('app ' + app.id);
    const send = async () => {
      for (;;) {
        const r = await fetch(flow.url + '/message', { method: 'POST', headers: { 'x-gotify-key': app.token, 'content-type': 'application/json' }, body: '{"message":"m"}' });
        if (r.status === 200) console.log('ack ' + (await r.json()).id);
      }
    };
    for (let i = 0; i < 8; i++) void send();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: number[] = [];
  let appId = 0;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, id] = line.split(' ');
      if (kind === 'app') appId = Number(id);
      else acked.push(Number(id));
      // SIGKILL in the middle of the flood, after a few hundred acknowledgements.
      if (acked.length === 200) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await exited;
  return { acked, appId };
}

describe('durability', () => {
  it('keeps every acknowledged message across a SIGKILL during concurrent writes, and ids go on above them', { timeout: 120_000 }, async () => {
    const { acked, appId } = await sendUntilKilled();
    s = await startTestServer({ dataDir: data, config: { 'plugins.bundled': false } });
    const stored = new Set((await s.flow.app.store.messages.listByApplication(appId, 1, 100_000)).map((m) => m.id));
    for (const id of acked) expect(stored.has(id)).toBe(true);
    const app = (await s.api('GET', '/application', { auth: s.adminAuth })).body.find((a: any) => a.id === appId);
    const next = await s.api('POST', '/message', { token: app.token, json: { message: 'after' } });
    expect(next.body.id).toBeGreaterThan(Math.max(...stored));
  });

  it('opens consistently after a power cut (the log cut short): a prefix of the messages, ids never reused', { timeout: 120_000 }, async () => {
    const { appId } = await sendUntilKilled();
    const db = path.join(data, 'db');
    const log = readdirSync(db).filter((f) => f.endsWith('.log')).sort().at(-1)!;
    const size = statSync(path.join(db, log)).size;
    // Unsynced writes lost: the tail of the log is gone, possibly in the middle of a record.
    truncateSync(path.join(db, log), Math.floor(size * 0.6) + 3);
    s = await startTestServer({ dataDir: data, config: { 'plugins.bundled': false } });
    expect((await s.api('GET', '/health')).status).toBe(200);
    const ids = (await s.flow.app.store.messages.listByApplication(appId, 1, 100_000)).map((m) => m.id).sort((a, b) => a - b);
    // What is left is the first messages (LevelDB replays its log in order), with no gap.
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    const app = (await s.api('GET', '/application', { auth: s.adminAuth })).body.find((a: any) => a.id === appId);
    const next = await s.api('POST', '/message', { token: app.token, json: { message: 'after' } });
    expect(next.status).toBe(200);
    expect(next.body.id).toBeGreaterThan(ids.at(-1) ?? 0);
    // Listing by user shows exactly the application's messages (no id shared with a lost one).
    const listed = (await s.api('GET', '/message?limit=200', { auth: s.adminAuth })).body.messages;
    expect(listed[0].id).toBe(next.body.id);
  });
});
