import { createTestHost, type TestHost } from '@flow/plugin-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { plugin } from './plugin.js';

describe('echo plugin', () => {
  let host: TestHost;
  beforeEach(async () => {
    host = await createTestHost(plugin);
  });
  afterEach(async () => {
    expect(host.violations).toEqual([]);
    await host.close();
  });

  it('declares every capability, its name and module path', () => {
    expect(host.initializeResult?.info).toMatchObject({ name: 'echo', modulePath: 'github.com/flow/plugins/echo' });
    expect(host.initializeResult?.capabilities).toEqual(['configurer', 'displayer', 'messenger', 'storager', 'webhooker', 'subscriber']);
  });

  it('GET echo: counts in storage, sends "Hello received", answers the magic string', async () => {
    const inst = await host.createInstance();
    await inst.enable();
    for (const n of [1, 2]) {
      const res = await inst.webhook({ method: 'GET', path: '/echo' });
      expect(res.status).toBe(200);
      expect(res.text()).toBe('hello world');
      expect(inst.messages.at(-1)).toMatchObject({
        title: 'Hello received',
        message: `echo server received a hello message ${n} times`,
        priority: 2,
        extras: { 'plugin::name': 'echo' },
      });
    }
    expect(JSON.parse(inst.storage.toString('utf8'))).toEqual({ calledTimes: 2 });
  });

  it('counts every call when calls arrive together', async () => {
    const inst = await host.createInstance();
    await Promise.all(Array.from({ length: 10 }, () => inst.webhook({ path: '/echo' })));
    expect(inst.messages.map((m) => m.message).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `echo server received a hello message ${i + 1} times`).sort(),
    );
  });

  it('keeps counting from what storage holds (a restart)', async () => {
    const inst = await host.createInstance();
    inst.storage = Buffer.from(JSON.stringify({ calledTimes: 41 }));
    await inst.webhook({ path: '/echo' });
    expect(inst.messages[0]?.message).toBe('echo server received a hello message 42 times');
  });

  it('answers the configured magic string and rejects an empty one', async () => {
    const inst = await host.createInstance();
    expect(parse(await inst.defaultConfig())).toEqual({ magic_string: 'hello world' });
    await inst.setConfig('magic_string: open sesame');
    expect((await inst.webhook({ path: '/echo' })).text()).toBe('open sesame');
    await expect(inst.setConfig('magic_string: ""')).rejects.toThrow('magic_string must not be empty');
    await expect(inst.setConfig('magic_string: [1]')).rejects.toThrow('magic_string must be text');
    expect((await inst.webhook({ path: '/echo' })).text()).toBe('open sesame');
  });

  it('other paths and methods: 404 and 405, no message', async () => {
    const inst = await host.createInstance();
    expect((await inst.webhook({ path: '/nope' })).status).toBe(404);
    expect((await inst.webhook({ method: 'POST', path: '/echo' })).status).toBe(405);
    expect(inst.messages).toEqual([]);
  });

  it('display: the absolute webhook URL and the counters', async () => {
    const inst = await host.createInstance({ webhookBasePath: '/plugin/3/custom/Ptoken/' });
    await inst.webhook({ path: '/echo' });
    inst.sendMessageToSubscriber({ id: 7, title: 'from another app' });
    await host.waitFor(() => inst.kv.get('messages-seen') === '1');
    const display = await inst.display({ scheme: 'https', host: 'flow.example.com', webhookBasePath: '/flow/plugin/3/custom/Ptoken/' });
    expect(display).toContain('[https://flow.example.com/flow/plugin/3/custom/Ptoken/echo](https://flow.example.com/flow/plugin/3/custom/Ptoken/echo)');
    expect(display).toContain('Called 1 time so far');
    expect(display).toContain('1 message from your other applications seen');
  });
});
