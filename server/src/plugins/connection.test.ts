import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessageConnection, ResponseError, type CancellationToken, type MessageConnection } from 'vscode-jsonrpc/node';
import { DisplayGet, ErrorCodes, InstanceEnable, Ping, createStreamTransport } from '@flow/protocol';
import { PluginConnection } from './connection.js';
import { waitFor } from '../../../test/helpers/wait.js';

/** The host's PluginConnection and a fake plugin (vscode-jsonrpc) over an in-memory pipe pair. */
/**
 * A handler that never answers and records its cancellation. A `$/cancelRequest` that arrives
 * while the request still waits in vscode-jsonrpc's queue (a busy machine) hands the handler the
 * shared `CancellationToken.Cancelled`, whose `onCancellationRequested` never fires: check first.
 */
const hangUntilCancelled = (token: CancellationToken, cancels: unknown[]): Promise<never> =>
  new Promise(() => {
    if (token.isCancellationRequested) cancels.push('cancelled');
    else token.onCancellationRequested(() => cancels.push('cancelled'));
  });

function pair(): { host: PluginConnection; plugin: MessageConnection; cancels: unknown[]; hostRequests: [string, unknown][] } {
  const toPlugin = new PassThrough();
  const toHost = new PassThrough();
  const hostSide = createStreamTransport(toHost, toPlugin);
  const pluginSide = createStreamTransport(toPlugin, toHost);
  const hostRequests: [string, unknown][] = [];
  const host = new PluginConnection(hostSide.reader, hostSide.writer, async (method, params) => {
    hostRequests.push([method, params]);
    return { ok: true };
  }, () => undefined);
  const plugin = createMessageConnection(pluginSide.reader, pluginSide.writer);
  const cancels: unknown[] = [];
  plugin.listen();
  return { host, plugin, cancels, hostRequests };
}


describe('PluginConnection', () => {
  let open: PluginConnection | undefined;
  afterEach(() => open?.close('test over'));

  it('returns results checked against the protocol schema', async () => {
    const { host, plugin } = pair();
    open = host;
    plugin.onRequest(Ping.method, () => ({}));
    plugin.onRequest(DisplayGet.method, () => ({ markdown: 42 }));
    await expect(host.request(Ping, {}, { timeoutMs: 1000 })).resolves.toEqual({});
    const bad = host.request(DisplayGet, { instanceId: '1', location: { scheme: 'http', host: 'h', webhookBasePath: '/' } }, { timeoutMs: 1000 });
    await expect(bad).rejects.toMatchObject({ code: 'FLOW_ERR_PLUGIN_BAD_RESPONSE' });
  });

  it('passes the plugin\'s wire error on as REJECTED with its code and text', async () => {
    const { host, plugin } = pair();
    open = host;
    plugin.onRequest(InstanceEnable.method, () => new ResponseError(ErrorCodes.PluginError, 'no token configured'));
    await expect(host.request(InstanceEnable, { instanceId: '1' }, { timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'FLOW_ERR_PLUGIN_REJECTED',
      data: { wireCode: ErrorCodes.PluginError },
      message: 'no token configured',
    });
  });

  it('fails a call that is not answered in time with TIMEOUT and sends $/cancelRequest', async () => {
    const { host, plugin, cancels } = pair();
    open = host;
    // vscode-jsonrpc turns $/cancelRequest into the handler's cancellation token.
    plugin.onRequest(Ping.method, (_params, token) => hangUntilCancelled(token, cancels));
    await expect(host.request(Ping, {}, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'FLOW_ERR_PLUGIN_TIMEOUT', data: { wireCode: ErrorCodes.Timeout, data: { timeoutMs: 50 } } });
    await waitFor(() => cancels.length === 1, 'the cancel notification');
    expect(host.inFlight).toBe(0);
  });

  it('cancels when the caller aborts', async () => {
    const { host, plugin, cancels } = pair();
    open = host;
    let started = false;
    plugin.onRequest(Ping.method, (_params, token) => {
      started = true;
      return hangUntilCancelled(token, cancels);
    });
    const abort = new AbortController();
    const call = host.request(Ping, {}, { timeoutMs: 10_000, signal: abort.signal });
    // Once the plugin is working on it (a cancel that overtakes the request is dropped unseen by vscode-jsonrpc).
    await waitFor(() => started, 'the plugin working on the request');
    abort.abort();
    await expect(call).rejects.toMatchObject({ data: { wireCode: ErrorCodes.RequestCancelled } });
    await waitFor(() => cancels.length === 1, 'the cancel notification');
  });

  it('rejects every pending call at once on close, and later calls immediately', async () => {
    const { host, plugin } = pair();
    let received = 0;
    plugin.onRequest(Ping.method, () => {
      received++;
      return new Promise(() => undefined);
    });
    const calls = [1, 2, 3].map(() => host.request(Ping, {}, { timeoutMs: 60_000 }));
    await waitFor(() => received === 3, 'the plugin to receive the three calls');
    expect(host.inFlight).toBe(3);
    host.close('the plugin crashed: exited with code 1');
    for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'FLOW_ERR_PLUGIN_CLOSED', data: { wireCode: ErrorCodes.TransportClosed }, message: 'the plugin crashed: exited with code 1' });
    await expect(host.request(Ping, {}, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'FLOW_ERR_PLUGIN_CLOSED' });
    host.close('twice is fine');
  });

  it('hands plugin → host requests to the handler', async () => {
    const { host, plugin, hostRequests } = pair();
    open = host;
    await expect(plugin.sendRequest('kv/get', { instanceId: '1', key: 'k' })).resolves.toEqual({ ok: true });
    expect(hostRequests).toEqual([['kv/get', { instanceId: '1', key: 'k' }]]);
  });
});
