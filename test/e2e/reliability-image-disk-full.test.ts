/** An image upload on a full disk (a small tmpfs this test mounts as root, as in CI). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';

let mountDir: string;
let s: TestServer | undefined;

beforeAll(async () => {
  mountDir = await mkdtemp(path.join(tmpdir(), 'flow-img-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountDir]);
});
afterAll(async () => {
  await s?.close();
  execFileSync('umount', [mountDir]);
  await rm(mountDir, { recursive: true, force: true });
});

const png = (bytes: number) => {
  const b = Buffer.alloc(bytes, 7);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
  return b;
};

const upload = (appId: number, data: Buffer) => {
  const fd = new FormData();
  fd.append('file', new Blob([data]), 'icon.png');
  return s!.api('POST', `/application/${appId}/image`, { auth: s!.adminAuth, body: fd });
};

describe('image upload on a full disk', () => {
  it('answers 503 and leaves no partial file in images/', async () => {
    const dataDir = path.join(mountDir, 'data');
    s = await startTestServer({ dataDir });
    const app = await s.createApp({ name: 'icon' });
    const images = path.join(dataDir, 'images');
    const filler = path.join(mountDir, 'filler');
    const st = statfsSync(mountDir);
    // 256 KB left; the upload is 600 KB.
    writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - 256 * 1024)));
    const r = await upload(app.id, png(600 * 1024));
    expect(r.status).toBe(503);
    expect(r.body.errorDescription).toMatch(/disk space/);
    expect(readdirSync(images)).toEqual([]);
    expect((await s.api('GET', '/application', { auth: s.adminAuth })).body[0].image).toBe('static/defaultapp.png');

    rmSync(filler);
    const ok = await upload(app.id, png(600 * 1024));
    expect(ok.status).toBe(200);
    expect(readdirSync(images)).toEqual([ok.body.image.replace(/^image\//, '')]);
  });
});
