import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginsDir, startPluginServer, type PluginServer } from '../helpers/plugins.js';

let s: PluginServer;
beforeAll(async () => {
  s = await startPluginServer(await pluginsDir(['mock']));
});
afterAll(() => s?.close());

const health = async () => (await s.api('GET', '/health')).status;

describe('deeply nested documents from users', () => {
  it('answers 400 to deeply nested YAML posted as a plugin config (under the size limit), and keeps running', async () => {
    const [mock] = await s.plugins();
    const bob = await s.createUser('bob');
    const [own] = await s.plugins(bob.auth);
    // 20,000 levels in ~40 KB, under plugins.configmaxbytes (64 KiB): the nesting bound answers.
    for (const text of ['['.repeat(20_000) + ']'.repeat(20_000), '- '.repeat(20_000) + 'x', '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000)]) {
      const r = await s.api('POST', `/plugin/${own.id}/config`, { auth: bob.auth, body: text, headers: { 'Content-Type': 'application/x-yaml' } });
      expect(r.status).toBe(400);
      expect(r.body.errorDescription).toMatch(/nested too deeply/);
    }
    expect(await health()).toBe(200);
    // A normal config still goes through, and the stored one did not change before.
    expect((await s.api('GET', `/plugin/${own.id}/config`, { auth: bob.auth })).text).toBe('testkey: default\nisnotvalid: false\n');
    expect((await s.api('POST', `/plugin/${own.id}/config`, { auth: bob.auth, body: 'testkey: [a, {b: c}]\n' })).status).toBe(200);
    expect(mock.id).not.toBe(own.id);
  });

  it('answers 400 (not 500) to message extras nested 5,000 levels deep', async () => {
    const app = await s.createApp({ name: 'deep' });
    const deep = '{"x":'.repeat(5000) + '1' + '}'.repeat(5000);
    const body = `{"message":"m","extras":${deep}}`;
    const r = await s.api('POST', '/message', { token: app.token, body, headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'Bad Request', errorCode: 400 });
    expect(r.body.errorDescription).toMatch(/nested too deeply/);
    const ok = await s.api('POST', '/message', { token: app.token, json: { message: 'm', extras: { 'client::display': { contentType: 'text/plain' } } } });
    expect(ok.status).toBe(200);
    expect(await health()).toBe(200);
  });
});
