import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginsDir, startPluginServer, type PluginServer } from '../helpers/plugins.js';

let s: PluginServer;
beforeAll(async () => {
  s = await startPluginServer(await pluginsDir(['mock']), { 'plugins.storagequotabytes': 4096, 'plugins.configmaxbytes': 8192 });
});
afterAll(() => s?.close());

describe('plugin config size', () => {
  it('refuses a config over plugins.configmaxbytes with 400 before parsing it', async () => {
    const [conf] = await s.plugins();
    const big = 'testkey: ' + 'x'.repeat(9000) + '\n';
    const r = await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: big });
    expect(r.status).toBe(400);
    expect(r.body.errorDescription).toMatch(/too large.*8192/);
  });

  it('counts the config text against the storage quota', async () => {
    const [conf] = await s.plugins();
    // Under the config limit, over the 4096-byte quota.
    const r = await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'testkey: ' + 'y'.repeat(5000) + '\n' });
    expect(r.status).toBe(400);
    expect(r.body.errorDescription).toMatch(/storage quota/);
    const ok = await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'testkey: ' + 'z'.repeat(3000) + '\n' });
    expect(ok.status).toBe(200);
    expect((await s.api('GET', `/plugin/${conf.id}/config`, { auth: s.adminAuth })).text).toContain('zzz');
  });
});
