import { fileURLToPath } from 'node:url';
import { createTestHost, type TestHost } from '@flow/plugin-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The Go kit's side of spec/protocol.md section 2.5 (bad input) and section 4.2 (handshake), on
 * the seed's minimal example as `npm run build` built it: frames are written by hand.
 */

const MINIMAL_GO = fileURLToPath(new URL('../../plugins/minimal-go/dist/flow-minimal-go', import.meta.url));
const ECHO_GO = fileURLToPath(new URL('../../plugins/echo-go/dist/flow-echo-go', import.meta.url));
const error = (host: TestHost, id: number | string | null) => (host.answersTo(id)[0] as { error?: { code: number; message: string; data?: unknown } } | undefined)?.error;

describe('Go kit on the wire', () => {
  let host: TestHost;
  afterEach(async () => {
    await host?.close();
  });

  it('answers NotInitialized before initialize, then InvalidRequest to a second initialize', async () => {
    host = await createTestHost({ command: [MINIMAL_GO], handshake: false });
    host.writeFrame({ jsonrpc: '2.0', id: 0, method: 'ping', params: {} });
    await host.waitFor(() => host.answersTo(0).length > 0);
    expect(error(host, 0)?.code).toBe(1006);
    const result = await host.initialize();
    expect(result).toMatchObject({ protocolVersion: '1.0', capabilities: [], info: { modulePath: 'github.com/Flow/server/example/minimal' } });
    host.writeFrame({ jsonrpc: '2.0', id: 'again', method: 'initialize', params: { protocolVersions: ['1.0'], host: { name: 't', version: '0' }, limits: { maxFrameBytes: 8388608, storageQuotaBytes: 4194304, webhookBodyBytes: 1048576 } } });
    await host.waitFor(() => host.answersTo('again').length > 0);
    expect(error(host, 'again')?.code).toBe(-32600);
  });

  it('survives garbage, bad JSON, non-JSON-RPC messages and half frames, and keeps answering (ids 0 and strings included)', async () => {
    host = await createTestHost({ command: [MINIMAL_GO] });
    host.writeRaw('hello from nowhere\r\n\r\n');
    host.writeFrame({ jsonrpc: '2.0', id: 0, method: 'ping', params: {} });
    await host.waitFor(() => host.answersTo(0).length > 0);
    expect(host.answersTo(0)[0]).toEqual({ jsonrpc: '2.0', id: 0, result: {} });

    host.writeRaw('Content-Length: 7\r\n\r\n{"a": }');
    host.writeRaw('Content-Length: 2\r\n\r\n[]');
    host.writeRaw('Content-Length: 30\r\n\r\n{"jsonrpc": "1.0", "id": 5, "m');
    host.writeRaw('Content-Length: 9\r\n\r\n{"id": 6}');
    host.writeFrame({ jsonrpc: '2.0', id: 'str', method: 'no/such/method', params: {} });
    host.writeFrame({ jsonrpc: '2.0', method: 'no/such/notification', params: {} });
    host.writeFrame({ jsonrpc: '2.0', id: 7, method: 'ping' });
    await host.waitFor(() => host.answersTo(7).length > 0 && host.answersTo('str').length > 0);
    const nullAnswers = host.answersTo(null).map((m) => (m as { error: { code: number } }).error.code);
    expect(nullAnswers).toEqual([-32700, -32600, -32700]);
    expect(error(host, 6)?.code).toBe(-32600);
    expect(error(host, 'str')?.code).toBe(-32601);
    expect(host.answersTo(7)[0]).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    // Answers to hand-written frames are "unexpected" to the host; nothing else went wrong on stdout.
    expect(host.transportProblems.filter((p) => p.kind !== 'unexpected-response')).toEqual([]);
  });

  it('skips a frame over maxFrameBytes and answers FrameTooLarge to its id', async () => {
    host = await createTestHost({ command: [MINIMAL_GO], limits: { maxFrameBytes: 4096 } });
    host.writeFrame({ jsonrpc: '2.0', id: 41, method: 'ping', params: { padding: 'x'.repeat(10_000) } });
    host.writeFrame({ jsonrpc: '2.0', id: 42, method: 'ping', params: {} });
    await host.waitFor(() => host.answersTo(42).length > 0);
    expect(error(host, 41)).toMatchObject({ code: 1010, data: { limitBytes: 4096, frameBytes: expect.any(Number) } });
  });

  it('refuses calls about unknown instances, undeclared capabilities and bad params with the spec\'s codes', async () => {
    host = await createTestHost({ command: [ECHO_GO] });
    await expect(host.request('instance/enable', { instanceId: 'nobody' })).rejects.toMatchObject({ code: 1002 });
    await expect(host.request('instance/create', { instanceId: 'x', user: { id: 1, name: 'a', admin: false } })).rejects.toMatchObject({ code: -32602 });
    const inst = await host.createInstance();
    await expect(host.request('instance/create', { instanceId: inst.instanceId, user: { id: 1, name: 'a', admin: false }, webhookBasePath: '/plugin/9/custom/P9/' })).rejects.toMatchObject({ code: -32602 });
    const minimal = await createTestHost({ command: [MINIMAL_GO] });
    try {
      await minimal.createInstance();
      minimal.writeFrame({ jsonrpc: '2.0', id: 3, method: 'display/get', params: { instanceId: '1', location: { scheme: 'http', host: 'h', webhookBasePath: '/' } } });
      await minimal.waitFor(() => minimal.answersTo(3).length > 0);
      expect(error(minimal, 3)?.code).toBe(1003);
    } finally {
      await minimal.close();
    }
  });
});
