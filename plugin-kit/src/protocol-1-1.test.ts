import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@flow/protocol';
import { definePlugin } from './define.js';
import { PluginInstance, type WebhookRequest } from './instance.js';
import { createTestHost, type TestHost } from './testing.js';

// What protocol 1.1 gives a kit plugin, and that the same plugin still works with a 1.0 host (spec §14).
interface Config {
  name: string;
}

class Counter extends PluginInstance<Config> {
  config: Config | undefined;
  defaultConfig(): Config {
    return { name: 'counter' };
  }
  validateAndSetConfig(config: Config): void {
    this.config = config;
  }
  async handleWebhook(request: WebhookRequest) {
    try {
      if (request.path === '/hit') return { body: { value: await this.ctx.kv.increment('hits') } };
      if (request.path === '/claim') return { body: await this.ctx.kv.compareAndSet('owner', null, request.text()) };
      if (request.path === '/list') return { body: await this.ctx.kv.list('k:') };
      return { status: 404 };
    } catch (error) {
      return { status: 500, body: { code: (error as { code?: number }).code, message: (error as Error).message } };
    }
  }
}

const SCHEMA = { type: 'object', properties: { name: { type: 'string' } } };
const plugin = definePlugin({ info: { modulePath: 'github.com/flow/test/counter' }, instance: Counter, uses: ['storager'], configSchema: SCHEMA });

let host: TestHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

describe('protocol 1.1 in the kit', () => {
  it('declares its config schema on 1.1 only', async () => {
    host = await createTestHost(plugin);
    expect(host.initializeResult).toMatchObject({ protocolVersion: '1.1', configSchema: SCHEMA });
    await host.close();
    host = await createTestHost(plugin, { protocolVersions: ['1.0'] });
    expect(host.initializeResult?.protocolVersion).toBe('1.0');
    expect(host.initializeResult).not.toHaveProperty('configSchema');
    expect(host.violations).toEqual([]);
  });

  it('increments atomically under 64 concurrent webhooks and claims with compare-and-set', async () => {
    host = await createTestHost(plugin);
    const inst = await host.createInstance();
    await inst.enable();
    const replies = await Promise.all(Array.from({ length: 64 }, () => inst.webhook({ method: 'POST', path: '/hit' })));
    expect(replies.map((r) => (r.json() as { value: number }).value).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect((await inst.webhook({ method: 'POST', path: '/claim', body: 'alice' })).json()).toEqual({ swapped: true, value: 'alice' });
    expect((await inst.webhook({ method: 'POST', path: '/claim', body: 'bob' })).json()).toEqual({ swapped: false, value: 'alice' });
    expect(host.violations).toEqual([]);
  });

  it('lists every key across pages', async () => {
    host = await createTestHost(plugin);
    const inst = await host.createInstance();
    await inst.enable();
    for (let n = 0; n < 2500; n++) inst.kv.set(`k:${String(n).padStart(4, '0')}`, '');
    const keys = (await inst.webhook({ method: 'GET', path: '/list' })).json() as string[];
    expect(keys).toHaveLength(2500);
    expect(keys[2499]).toBe('k:2499');
    expect(host.traffic.filter((m) => (m.message as { method?: string }).method === 'kv/list')).toHaveLength(3);
  });

  it('on a 1.0 host: lists in one call, and the 1.1 operations fail with a clear error', async () => {
    host = await createTestHost(plugin, { protocolVersions: ['1.0'] });
    const inst = await host.createInstance();
    await inst.enable();
    const reply = await inst.webhook({ method: 'POST', path: '/hit' });
    expect(reply.status).toBe(500);
    expect(reply.json()).toMatchObject({ code: ErrorCodes.MethodNotFound, message: expect.stringMatching(/ctx\.kv\.increment needs protocol 1\.1; this host agreed on 1\.0/) });
    // The text form still configures it: the kit parses YAML itself for a 1.0 host.
    await inst.setConfig('name: old host');
    expect(host.traffic.some((m) => (m.message as { method?: string }).method === 'kv/increment')).toBe(false);
  });
});
