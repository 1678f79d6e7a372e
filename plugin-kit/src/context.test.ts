import { describe, expect, it } from 'vitest';
import { KvGet, MessageSend, type RequestDefinition } from '@flow/protocol';
import { KitContext, type ContextHost } from './context.js';

/** A ContextHost that records what the context asks of it. */
function recordingHost(): ContextHost & { calls: Array<{ method: string; instanceId: string; params: unknown }>; logs: unknown[][] } {
  const calls: Array<{ method: string; instanceId: string; params: unknown }> = [];
  const logs: unknown[][] = [];
  return {
    calls,
    logs,
    log: (...args) => void logs.push(args),
    requireCapability: () => undefined,
    requireVersion: () => undefined,
    speaks: () => false,
    async call(def: RequestDefinition, instanceId: string, params: Record<string, unknown>) {
      calls.push({ method: def.method, instanceId, params });
      if (def === KvGet) return { value: 'v' };
      if (def === MessageSend) return { id: 7 };
      return {};
    },
  } as ContextHost & { calls: typeof calls; logs: typeof logs };
}

const user = { id: 1, name: 'alice', admin: false };

describe('KitContext.signal', () => {
  it('is born aborted, with the first reason, when asked for after abort', () => {
    const ctx = new KitContext(recordingHost(), '5', user, '/plugin/5/custom/P/');
    ctx.abort('destroyed');
    ctx.abort('shutting down');
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toBe('destroyed');
  });

  it('is the same signal every time and aborts once asked for', () => {
    const ctx = new KitContext(recordingHost(), '5', user, '/plugin/5/custom/P/');
    const signal = ctx.signal;
    expect(ctx.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    ctx.abort('stop');
    expect(signal.reason).toBe('stop');
  });
});

describe('KitContext services', () => {
  it('builds log, storage, kv and send once, and they work detached', async () => {
    const host = recordingHost();
    const ctx = new KitContext(host, '5', user, '/plugin/5/custom/P/');
    expect(ctx.log).toBe(ctx.log);
    expect(ctx.storage).toBe(ctx.storage);
    expect(ctx.kv).toBe(ctx.kv);
    expect(ctx.send).toBe(ctx.send);
    const { log, kv, send } = ctx;
    const { info } = log;
    info('hi', { a: 1 });
    expect(host.logs).toEqual([['info', 'hi', { a: 1 }, '5']]);
    const { get } = kv;
    expect(await get('k')).toBe('v');
    expect(await send({ message: 'm' })).toEqual({ id: 7 });
    expect(host.calls).toEqual([
      { method: 'kv/get', instanceId: '5', params: { key: 'k' } },
      { method: 'message/send', instanceId: '5', params: { message: 'm' } },
    ]);
  });

  it('shows the instance fields as its own properties', () => {
    const ctx = new KitContext(recordingHost(), '5', user, '/plugin/5/custom/P/');
    expect({ ...ctx }).toEqual({ instanceId: '5', user, webhookBasePath: '/plugin/5/custom/P/' });
  });
});
