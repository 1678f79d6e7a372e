import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { requestId } from './request-id.js';
import type { FlowContext } from './state.js';

function run(given: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const root = createLogger({ level: 'info', destination: sink });
  let childCalls = 0;
  const child = root.child.bind(root);
  root.child = ((...args: Parameters<typeof child>) => {
    childCalls++;
    return child(...args);
  }) as typeof root.child;
  const sent: Record<string, string> = {};
  const headers: Record<string, string> = given === '' ? {} : { 'x-request-id': given };
  const ctx = { state: {}, req: { headers }, res: { setHeader: (k: string, v: string) => (sent[k] = v) } } as unknown as FlowContext;
  return { ctx, sent, lines, childCalls: () => childCalls, mw: requestId(root) };
}

describe('requestId', () => {
  it('keeps a sane X-Request-Id and answers with it', async () => {
    const { ctx, sent, mw } = run('abc-123.x:y');
    await mw(ctx, async () => {});
    expect(ctx.state.reqId).toBe('abc-123.x:y');
    expect(sent['X-Request-Id']).toBe('abc-123.x:y');
  });

  it('replaces a missing or unsafe X-Request-Id with a UUID', async () => {
    for (const given of ['', 'a b', 'x'.repeat(65), 'a\nb']) {
      const { ctx, sent, mw } = run(given);
      await mw(ctx, async () => {});
      expect(ctx.state.reqId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(sent['X-Request-Id']).toBe(ctx.state.reqId);
    }
  });

  it('creates the child logger only when the request logs, once, bound to reqId', async () => {
    const quiet = run('r1');
    await quiet.mw(quiet.ctx, async () => {});
    expect(quiet.childCalls()).toBe(0);

    const loud = run('r2');
    await loud.mw(loud.ctx, async () => {
      loud.ctx.state.log.warn('first');
      loud.ctx.state.log.warn('second');
    });
    expect(loud.childCalls()).toBe(1);
    expect(loud.lines.map((l) => [l.reqId, l.msg])).toEqual([
      ['r2', 'first'],
      ['r2', 'second'],
    ]);
  });
});
