import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@flow/protocol';
import { definePlugin } from './define.js';
import { PluginInstance, type CallContext, type WebhookReply, type WebhookRequest } from './instance.js';
import { createTestHost, type TestHost } from './testing.js';
import { closedClean } from '../test/closed-clean.js';

/** Bad input from the host: each case gets its defined answer (or a log line) and the plugin keeps serving. */

class Echo extends PluginInstance {
  async handleWebhook(request: WebhookRequest, call: CallContext): Promise<WebhookReply> {
    if (request.path === '/wait') await new Promise((resolve) => call.signal.addEventListener('abort', resolve));
    return { body: 'x'.repeat(Number(request.query.get('size') ?? 1)) };
  }
}
const echo = definePlugin({ info: { modulePath: 'github.com/flow/test/echo' }, instance: Echo });

const frame = (message: unknown): string => {
  const json = JSON.stringify(message);
  return `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
};
const ping = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'ping', params: {} });

let host: TestHost | undefined;
afterEach(async () => {
  await closedClean(host);
  host = undefined;
});

/** Sends a ping by hand and waits for its answer: proof the plugin still reads frames after the bad input. */
async function stillServes(id: string): Promise<void> {
  host!.writeFrame(ping(id));
  await host!.waitFor(() => host!.answersTo(id).length > 0);
  expect(host!.answersTo(id)).toEqual([{ jsonrpc: '2.0', id, result: {} }]);
}

function loggedBadInput(): string[] {
  return host!.stderr.filter((line) => line.includes('bad input from the host')).map((line) => (JSON.parse(line) as { level: string; message: string }).message);
}

describe('bad input', () => {
  it('skips garbage bytes before a frame and logs them', async () => {
    host = await createTestHost(echo);
    host.writeRaw('hello, this is not a frame\n');
    await stillServes('after-garbage');
    expect(loggedBadInput()).toEqual([expect.stringMatching(/Unexpected bytes where a frame header should start/)]);
  });

  it('skips a header without Content-Length and logs it', async () => {
    host = await createTestHost(echo);
    host.writeRaw('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n');
    await stillServes('after-header');
    expect(loggedBadInput()).toEqual([expect.stringMatching(/missing Content-Length/)]);
  });

  it('answers a body that is not JSON with ParseError and id null', async () => {
    host = await createTestHost(echo);
    host.writeRaw('Content-Length: 9\r\n\r\n{"jsonrpc');
    await stillServes('after-json');
    expect(host.answersTo(null)).toEqual([{ jsonrpc: '2.0', id: null, error: { code: ErrorCodes.ParseError, message: expect.stringMatching(/not valid JSON/) } }]);
  });

  it('recovers from a half frame followed by whole ones', async () => {
    host = await createTestHost(echo);
    // The first frame promises 80 bytes but stops after 20: its body swallows the start of the next
    // frame, which the reader finds again inside the bad body.
    host.writeRaw(`Content-Length: 80\r\n\r\n${'{"jsonrpc":"2.0","id"'}`);
    host.writeFrame(ping('next'));
    await host.waitFor(() => host!.answersTo('next').length > 0);
    expect(host.answersTo('next')).toEqual([{ jsonrpc: '2.0', id: 'next', result: {} }]);
    expect(host.answersTo(null)).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: ErrorCodes.ParseError }) })]);
    await stillServes('after-half');
  });

  it('skips a frame over the limit and answers its request with FrameTooLarge', async () => {
    host = await createTestHost(echo, { limits: { maxFrameBytes: 1024 } });
    const instance = await host.createInstance();
    const big = { jsonrpc: '2.0', id: 'big', method: 'webhook/request', params: { instanceId: instance.id, method: 'POST', path: '/', query: '', headers: {}, body: Buffer.alloc(4096).toString('base64') } };
    host.writeRaw(frame(big));
    await stillServes('after-big');
    expect(host.answersTo('big')).toEqual([
      { jsonrpc: '2.0', id: 'big', error: { code: ErrorCodes.FrameTooLarge, message: expect.stringMatching(/over the limit of 1024 bytes/), data: { limitBytes: 1024, frameBytes: Buffer.byteLength(JSON.stringify(big)) } } },
    ]);
  });

  it('answers with PluginError instead of sending a result over the host limit', async () => {
    host = await createTestHost(echo, { limits: { maxFrameBytes: 1024 } });
    const instance = await host.createInstance();
    expect((await instance.webhook({ query: { size: '100' } })).text()).toHaveLength(100);
    await expect(instance.webhook({ query: { size: '2000' } })).rejects.toMatchObject({ code: ErrorCodes.PluginError, message: expect.stringMatching(/over the 1024-byte frame limit/), data: { limitBytes: 1024 } });
    await stillServes('after-big-answer');
  });

  it('answers a batch, a non-object and a message without jsonrpc with InvalidRequest', async () => {
    host = await createTestHost(echo);
    host.writeRaw(frame([ping('in-batch')]));
    host.writeRaw(frame(42));
    host.writeRaw(frame({ id: 'no-version', method: 'ping' }));
    await stillServes('after-invalid');
    expect(host.answersTo(null).map((answer) => (answer as { error: { code: number } }).error.code)).toEqual([ErrorCodes.InvalidRequest, ErrorCodes.InvalidRequest]);
    expect(host.answersTo('no-version')).toEqual([{ jsonrpc: '2.0', id: 'no-version', error: { code: ErrorCodes.InvalidRequest, message: '"jsonrpc" must be "2.0"' } }]);
    expect(host.answersTo('in-batch')).toEqual([]);
  });

  it('refuses a second request with the id of one still running', async () => {
    host = await createTestHost(echo);
    const instance = await host.createInstance();
    const wait = { jsonrpc: '2.0', id: 'twice', method: 'webhook/request', params: { instanceId: instance.id, method: 'GET', path: '/wait', query: '', headers: {}, body: '' } };
    host.writeFrame(wait);
    host.writeFrame({ ...wait, params: { ...wait.params, path: '/' } });
    await host.waitFor(() => host!.answersTo('twice').length === 1);
    expect(host.answersTo('twice')).toEqual([{ jsonrpc: '2.0', id: 'twice', error: { code: ErrorCodes.InvalidRequest, message: expect.stringMatching(/already in use/) } }]);
    host.writeFrame({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 'twice' } });
    await host.waitFor(() => host!.answersTo('twice').length === 2);
    expect(host.answersTo('twice')[1]).toEqual({ jsonrpc: '2.0', id: 'twice', error: { code: ErrorCodes.RequestCancelled, message: 'the request was cancelled' } });
  });

  it('treats absent params as {} and ignores unknown notifications', async () => {
    host = await createTestHost(echo);
    host.writeFrame({ jsonrpc: '2.0', id: 'no-params', method: 'ping' });
    host.writeFrame({ jsonrpc: '2.0', method: 'something/new', params: { x: 1 } });
    host.writeFrame({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 'nothing-running' } });
    await stillServes('after-notifications');
    expect(host.answersTo('no-params')).toEqual([{ jsonrpc: '2.0', id: 'no-params', result: {} }]);
    expect(host.stderr.some((line) => line.includes('ignored unknown notification \\"something/new\\"'))).toBe(true);
  });

  it('logs a frame cut off by the end of the input, then exits', async () => {
    host = await createTestHost(echo);
    host.writeRaw('Content-Length: 50\r\n\r\n{"jsonrpc":"2.0",');
    expect(await host.closeInput()).toBe(1);
    await host.waitFor(() => host!.stderr.some((line) => line.includes('the input ended inside a frame')));
  });
});
