import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from './errors.js';
import { FrameDecoder, encodeFrame } from './framing.js';
import { ConversationChecker } from '../test-support/schemas.js';

/**
 * spec/examples/echo_plugin.py run as the host runs a plugin: a real python3 process,
 * frames written by hand, every message in both directions validated against
 * spec/schemas/. It proves the spec is enough to write a plugin without the kit.
 */

const script = fileURLToPath(new URL('../../spec/examples/echo_plugin.py', import.meta.url));
type Json = Record<string, unknown>;

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

/** A minimal hand-written host: writes frames, answers the plugin's calls, checks every message. */
function startHost(env: NodeJS.ProcessEnv = { FLOW_PLUGIN_PROTOCOL: '1.0' }) {
  const child = spawn('python3', [script], { env: { PATH: process.env.PATH, ...env }, stdio: 'pipe' });
  children.push(child);
  const checker = new ConversationChecker();
  const waiting = new Map<unknown, (message: Json) => void>();
  const kv = new Map<string, string>();
  const sentMessages: Json[] = [];
  const frameErrors: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const send = (message: Json) => {
    checker.check(message, 'host');
    child.stdin.write(encodeFrame(message));
  };
  const answerPlugin = (message: Json): Json => {
    const params = message.params as Json;
    switch (message.method) {
      case 'kv/get':
        return { value: kv.get(params.key as string) ?? null };
      case 'kv/set':
        kv.set(params.key as string, params.value as string);
        return {};
      case 'message/send':
        sentMessages.push(params);
        return { id: 100 + sentMessages.length };
      default:
        throw new Error(`unexpected plugin call ${String(message.method)}`);
    }
  };
  const decoder = new FrameDecoder({
    message: (value) => {
      const message = value as Json;
      checker.check(message, 'plugin');
      if (typeof message.method === 'string') {
        if ('id' in message) send({ jsonrpc: '2.0', id: message.id, result: answerPlugin(message) });
        return;
      }
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    },
    error: (error) => frameErrors.push(error.message),
  });
  child.stdout.on('data', (chunk: Buffer) => decoder.push(chunk));
  let nextId = 1;
  const request = (method: string, params: Json, id: number | string = nextId++) =>
    new Promise<Json>((resolve) => {
      waiting.set(id, resolve);
      send({ jsonrpc: '2.0', id, method, params });
    });
  const waitForId = (id: unknown) => new Promise<Json>((resolve) => waiting.set(id, resolve));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, checker, request, send, waitForId, kv, sentMessages, frameErrors, exited, stderr: () => stderr };
}

const initializeParams = {
  protocolVersions: ['1.0'],
  host: { name: 'test-host', version: '0.0.0' },
  limits: { maxFrameBytes: 8388608, storageQuotaBytes: 4194304, webhookBodyBytes: 1048576 },
};
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('spec/examples/echo_plugin.py', () => {
  it('runs a whole session: handshake, config, display, a webhook with nested host calls, shutdown', async () => {
    const host = startHost();
    const init = await host.request('initialize', initializeParams);
    expect(init.result).toMatchObject({ protocolVersion: '1.0', info: { modulePath: 'github.com/flow-examples/echo-python' } });
    host.send({ jsonrpc: '2.0', method: 'initialized', params: {} });

    const user = { id: 1, name: 'alice', admin: true };
    const base = '/plugin/25/custom/Pq1w2e3r4t5y6u7i8o9p0as/';
    expect(await host.request('instance/create', { instanceId: '25', user, webhookBasePath: base })).toMatchObject({ result: {} });
    const defaults = await host.request('config/default', { instanceId: '25' });
    expect((defaults.result as Json).config).toContain('magic_string: hello world');
    expect(await host.request('config/validateAndSet', { instanceId: '25', config: "magic_string: ''\n" })).toMatchObject({
      error: { code: ErrorCodes.InvalidConfig, message: 'magic_string must not be empty' },
    });
    expect(await host.request('config/validateAndSet', { instanceId: '25', config: 'magic_string: hi there\n' })).toMatchObject({ result: {} });
    expect(await host.request('instance/enable', { instanceId: '25' })).toMatchObject({ result: {} });

    const display = await host.request('display/get', { instanceId: '25', location: { scheme: 'https', host: 'push.example.com', webhookBasePath: `/flow${base}` } });
    expect((display.result as Json).markdown).toBe(`Echo for alice is enabled. Send a request to <https://push.example.com/flow${base}echo>.`);

    // Several webhooks in flight at once, each calling the host three times before answering.
    const hooks = await Promise.all(
      [1, 2, 3].map((n) =>
        host.request('webhook/request', { instanceId: '25', method: 'POST', path: '/echo', query: '', headers: { 'content-type': 'text/plain' }, body: b64(`ping ${n}`) }),
      ),
    );
    for (const hook of hooks) expect(hook.result).toMatchObject({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(hooks.map((h) => Buffer.from((h.result as Json).body as string, 'base64').toString()).sort()).toEqual([
      'hi there (message 101)\n',
      'hi there (message 102)\n',
      'hi there (message 103)\n',
    ]);
    expect(host.sentMessages.map((m) => m.message).sort()).toEqual(['POST /echo: ping 1', 'POST /echo: ping 2', 'POST /echo: ping 3']);
    expect(host.kv.get('count')).toBeDefined();
    expect(await host.request('ping', {})).toMatchObject({ result: {} });

    expect(await host.request('shutdown', {})).toMatchObject({ result: {} });
    host.send({ jsonrpc: '2.0', method: 'exit', params: {} });
    expect(await host.exited).toBe(0);
    expect(host.checker.problems).toEqual([]);
    expect(host.frameErrors).toEqual([]);
  });

  it('answers bad input with the defined errors and keeps serving', async () => {
    const host = startHost();
    expect(await host.request('ping', {})).toMatchObject({ error: { code: ErrorCodes.NotInitialized } });
    await host.request('initialize', initializeParams);
    expect(await host.request('initialize', initializeParams)).toMatchObject({ error: { code: ErrorCodes.InvalidRequest } });
    // Not through the checker: the method is deliberately not in the protocol.
    host.child.stdin.write(encodeFrame({ jsonrpc: '2.0', id: 'x1', method: 'nope/nothing', params: {} }));
    expect(await host.waitForId('x1')).toMatchObject({ error: { code: ErrorCodes.MethodNotFound } });
    expect(await host.request('instance/enable', { instanceId: 'missing' })).toMatchObject({ error: { code: ErrorCodes.UnknownInstance } });
    host.child.stdin.write('garbage line\nContent-Length: 5\r\n\r\nnope!');
    expect(await host.waitForId(null)).toMatchObject({ error: { code: ErrorCodes.ParseError } });
    expect(await host.request('ping', {})).toMatchObject({ result: {} });
    host.child.stdin.end();
    expect(await host.exited).toBe(1); // stdin EOF without shutdown
    expect(host.checker.problems).toEqual([]);
  });

  it('refuses a host that speaks only another major version, naming both', async () => {
    const host = startHost();
    const answer = await host.request('initialize', { ...initializeParams, protocolVersions: ['2.0'] });
    expect(answer.error).toEqual({
      code: ErrorCodes.IncompatibleVersion,
      message: 'No common protocol version: the host speaks 2.0, this plugin speaks 1.0',
      data: { hostVersions: ['2.0'], pluginVersions: ['1.0'] },
    });
    expect(host.checker.problems).toEqual([]);
  });

  it('prints what it is instead of waiting when run by hand, and its info with --info', async () => {
    const byHand = startHost({});
    expect(await byHand.exited).toBe(1);
    expect(byHand.stderr()).toContain('is a Flow plugin');
    const info = spawn('python3', [script, '--info'], { stdio: 'pipe' });
    children.push(info);
    let out = '';
    info.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => info.on('exit', resolve));
    expect(JSON.parse(out)).toMatchObject({
      info: { modulePath: 'github.com/flow-examples/echo-python', version: '1.0.0' },
      capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker'],
      protocolVersions: ['1.0'],
    });
  });
});
