/**
 * Disk full, on a real filesystem: the data dir is a small tmpfs this test mounts (CI runs as
 * root), filled with a file until LevelDB's writes fail with ENOSPC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { statfsSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/plugins.js';

let mountDir: string;
let s: TestServer | undefined;

beforeAll(async () => {
  mountDir = await mkdtemp(path.join(tmpdir(), 'flow-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountDir]);
});
afterAll(async () => {
  await s?.close();
  execFileSync('umount', [mountDir]);
  await rm(mountDir, { recursive: true, force: true });
});

const free = (dir: string) => {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
};

describe('a full disk under the data dir', () => {
  it('refuses writes (503) with /health red until the database is reopened, and loses nothing acknowledged', { timeout: 120_000 }, async () => {
    const dataDir = path.join(mountDir, 'data');
    s = await startTestServer({ dataDir });
    const app = await s.createApp({ name: 'full' });
    const filler = path.join(mountDir, 'filler');
    const acked: number[] = [];
    const send = (text: string) => s!.api('POST', '/message', { token: app.token, json: { message: text } });
    for (let i = 0; i < 20; i++) {
      const r = await send('before ' + i);
      expect(r.status).toBe(200);
      acked.push(r.body.id);
    }
    // Leave a few KB: the next messages fill the disk in the middle of LevelDB's log.
    writeFileSync(filler, Buffer.alloc(Math.max(0, free(mountDir) - 24 * 1024)));

    let failed: { status: number } | undefined;
    const big = 'x'.repeat(3000);
    for (let i = 0; i < 200 && !failed; i++) {
      const r = await send(big + i);
      if (r.status === 200) acked.push(r.body.id);
      else failed = r;
    }
    expect(failed, 'a write must fail once the disk is full').toBeDefined();
    expect([500, 503]).toContain(failed!.status);

    const health = await s.api('GET', '/health');
    expect(health.status).toBe(500);
    expect(health.body).toMatchObject({ health: 'orange', database: 'red' });
    // Every write is refused while unhealthy, even a small one that would fit.
    const refused = await send('small');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'Service Unavailable', errorCode: 503 });
    expect((await s.api('POST', '/application', { auth: s.adminAuth, json: { name: 'no' } })).status).toBe(503);
    // Reads still work meanwhile.
    expect((await s.api('GET', '/application', { auth: s.adminAuth })).status).toBe(200);

    // Space returns: the database is reopened, verified, and takes writes again.
    rmSync(filler);
    await waitFor(async () => (await s!.api('GET', '/health')).status === 200, 'the database to be reopened', 30_000);
    for (let i = 0; i < 50; i++) {
      const r = await send('after ' + i);
      expect(r.status).toBe(200);
      acked.push(r.body.id);
    }
    const app2 = await s.createApp({ name: 'after the disk was full' });

    await s.restart();
    const stored = (await s.flow.app.store.messages.listByApplication(app.id, 1, 100_000)).map((m) => m.id);
    expect(stored.sort((a, b) => a - b)).toEqual([...acked].sort((a, b) => a - b));
    expect((await s.api('GET', '/application', { auth: s.adminAuth })).body.map((a: any) => a.id)).toContain(app2.id);
    const next = await send('after restart');
    expect(next.body.id).toBeGreaterThan(Math.max(...acked));
    expect(readdirSync(path.join(dataDir, 'db')).length).toBeGreaterThan(0);
  });
});
