import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, type Message } from '@flow/protocol';
import { RpcError } from './connection.js';
import { definePlugin } from './define.js';
import { ConfigError, PluginInstance, type CallContext, type DisplayLocation, type InstanceContext, type WebhookReply, type WebhookRequest } from './instance.js';
import { createTestHost, type TestHost } from './testing.js';
import { closedClean } from '../test/closed-clean.js';

interface Config {
  greeting: string;
  nested: { count: number; label: string };
}

/** Every capability, with behaviour the tests steer through the webhook path or the config. */
class Full extends PluginInstance<Config> {
  static created: Full[] = [];
  config: Config | undefined;
  enabled = false;
  aborted = false;

  constructor(ctx: InstanceContext) {
    super(ctx);
    if (ctx.user.name === 'explode') throw new Error('cannot serve this user');
    ctx.signal.addEventListener('abort', () => (this.aborted = true));
    Full.created.push(this);
  }

  enable(): void {
    if (this.config?.greeting === 'refuse') throw new Error('greeting "refuse" cannot be enabled');
    this.enabled = true;
  }

  async disable(): Promise<void> {
    this.enabled = false;
    // Host calls still work while disabling, also during shutdown: plugins record their last state here.
    await this.ctx.kv.set('stopped', 'yes');
  }

  defaultConfig(): Config {
    return { greeting: 'hello', nested: { count: 1, label: 'one' } };
  }

  validateAndSetConfig(config: Config): void {
    if (config.greeting === '') throw new ConfigError('greeting must not be empty');
    this.config = config;
  }

  getDisplay(location: DisplayLocation): string {
    return `Send to ${location.webhookUrl}hook as ${this.ctx.user.name}`;
  }

  async handleWebhook(request: WebhookRequest, call: CallContext): Promise<WebhookReply> {
    switch (request.path) {
      case '/echo':
        return { status: 201, headers: { 'x-echo': request.query.get('q') ?? '' }, body: request.body };
      case '/json':
        return { body: { method: request.method, got: request.json(), header: request.headers['x-test'] } };
      case '/text':
        return { body: request.text().toUpperCase() };
      case '/throw':
        throw new Error('webhook handler broke');
      case '/throw-string':
        throw 'a bare string';
      case '/bad-status':
        return { status: 42 };
      case '/wait':
        // Resolves only when the call is cancelled: proves the handler saw the host's $/cancelRequest.
        await new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve()));
        this.ctx.log.info('wait was cancelled');
        return { body: 'too late' };
      case '/send': {
        const { id } = await this.ctx.send({ message: request.text(), title: 'from webhook', priority: 4, extras: { 'plugin::name': 'full' } });
        return { body: { id } };
      }
      case '/storage': {
        const before = await this.ctx.storage.loadJSON<{ n: number }>();
        await this.ctx.storage.saveJSON({ n: (before?.n ?? 0) + 1 });
        await this.ctx.kv.set('visits', String((before?.n ?? 0) + 1));
        await this.ctx.kv.set('other', 'x');
        const deleted = await this.ctx.kv.delete('other');
        const deletedAgain = await this.ctx.kv.delete('other');
        return { body: { before: before ?? null, visits: await this.ctx.kv.get('visits'), missing: await this.ctx.kv.get('missing'), keys: await this.ctx.kv.list('v'), deleted, deletedAgain } };
      }
      case '/big-save':
        await this.ctx.storage.save(Buffer.alloc(Number(request.query.get('bytes'))));
        return { body: 'saved' };
      case '/log':
        this.ctx.log.warn('something odd', { path: request.path });
        return {};
      default:
        return { status: 404, body: 'not found' };
    }
  }

  async onMessage(message: Message): Promise<void> {
    if (message.title === 'crash') throw new Error('subscriber broke');
    await this.ctx.send({ message: `forwarded: ${message.message}` });
  }
}

const full = definePlugin({
  info: { name: 'full', modulePath: 'github.com/flow/test/full', version: '0.1.0' },
  instance: Full,
  uses: ['messenger', 'storager'],
  secretKeys: ['greeting'],
});

class Bare extends PluginInstance {}
const bare = definePlugin({ info: { modulePath: 'github.com/flow/test/bare' }, instance: Bare });

/** Calls host services it did not declare in `uses`. */
class Forgetful extends PluginInstance {
  async handleWebhook(request: WebhookRequest): Promise<WebhookReply> {
    if (request.path === '/kv') await this.ctx.kv.get('x');
    else await this.ctx.send({ message: 'x' });
    return {};
  }
}
const forgetful = definePlugin({ info: { modulePath: 'github.com/flow/test/forgetful' }, instance: Forgetful });

let host: TestHost | undefined;
afterEach(async () => {
  Full.created = [];
  await closedClean(host);
  host = undefined;
});

async function rpcError(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof RpcError)) throw new Error(`expected an RpcError, got ${String(error)}`);
  return error;
}

describe('servePlugin handshake', () => {
  it('answers initialize with the negotiated version, info and capabilities', async () => {
    host = await createTestHost(full, { handshake: false });
    const result = await host.initialize(['1.7', '1.0']);
    expect(result).toEqual({
      protocolVersion: '1.1',
      info: { name: 'full', modulePath: 'github.com/flow/test/full', version: '0.1.0' },
      capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker', 'subscriber'],
    });
    expect(await host.request('plugin/info', {})).toEqual({ info: result.info, capabilities: result.capabilities });
    expect(await host.request('ping', {})).toEqual({});
  });

  it('refuses a host without a common version, naming both sides', async () => {
    host = await createTestHost(full, { handshake: false });
    const error = await rpcError(host.initialize(['2.0', '0.9']));
    expect(error.code).toBe(ErrorCodes.IncompatibleVersion);
    expect(error.data).toEqual({ hostVersions: ['2.0', '0.9'], pluginVersions: ['1.1'] });
    expect(error.message).toMatch(/host speaks 2.0, 0.9, this plugin speaks 1.1/);
    // Still not initialized: a working offer is accepted afterwards.
    expect((await rpcError(host.request('ping', {}))).code).toBe(ErrorCodes.NotInitialized);
    expect((await host.initialize(['1.0'])).protocolVersion).toBe('1.0');
  });

  it('refuses requests before initialize and a second initialize', async () => {
    host = await createTestHost(full, { handshake: false });
    const early = await rpcError(host.request('instance/create', { instanceId: '1', user: { id: 1, name: 'a', admin: false }, webhookBasePath: '/p/' }));
    expect(early.code).toBe(ErrorCodes.NotInitialized);
    await host.initialize();
    expect((await rpcError(host.initialize())).code).toBe(ErrorCodes.InvalidRequest);
  });

  it('disables instances, then stops them, on shutdown; refuses requests after it and exits 0 on exit', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    const idle = await host.createInstance();
    await instance.enable();
    expect(await host.request('shutdown', {})).toEqual({});
    expect(Full.created[0]!.enabled).toBe(false);
    expect(instance.kv.get('stopped')).toBe('yes');
    expect(idle.kv.has('stopped')).toBe(false);
    expect(Full.created.map((created) => created.aborted)).toEqual([true, true]);
    const late = await rpcError(instance.enable());
    expect(late.code).toBe(ErrorCodes.ShuttingDown);
    host.notify('exit', {});
    expect(await host.exited).toBe(0);
  });

  it('exits 1 on exit without shutdown', async () => {
    host = await createTestHost(full);
    host.notify('exit', {});
    expect(await host.exited).toBe(1);
  });

  it('exits 1 when the input ends without shutdown, stopping instances first', async () => {
    host = await createTestHost(full);
    await host.createInstance();
    expect(await host.closeInput()).toBe(1);
    expect(Full.created[0]!.aborted).toBe(true);
  });

  it('exits 0 when the input ends after shutdown', async () => {
    host = await createTestHost(full);
    await host.request('shutdown', {});
    expect(await host.closeInput()).toBe(0);
  });
});

describe('servePlugin requests', () => {
  it('answers an unknown method and a plugin → host method with MethodNotFound', async () => {
    host = await createTestHost(full);
    expect((await rpcError(host.request('instance/explode', {}))).code).toBe(ErrorCodes.MethodNotFound);
    expect((await rpcError(host.request('message/send', { instanceId: '1', message: 'x' }))).code).toBe(ErrorCodes.MethodNotFound);
  });

  it('answers wrong params with InvalidParams listing the issues', async () => {
    host = await createTestHost(full);
    const error = await rpcError(host.request('instance/create', { instanceId: '', user: { id: 'one' } }));
    expect(error.code).toBe(ErrorCodes.InvalidParams);
    const paths = (error.data as { issues: Array<{ path: Array<string | number> }> }).issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['instanceId', 'user.id', 'user.name', 'webhookBasePath']));
  });

  it('answers an unknown instance with UnknownInstance, also after destroy', async () => {
    host = await createTestHost(full);
    expect((await rpcError(host.request('instance/enable', { instanceId: 'nope' }))).code).toBe(ErrorCodes.UnknownInstance);
    const instance = await host.createInstance();
    await instance.enable();
    await instance.destroy();
    expect(Full.created[0]!.enabled).toBe(false);
    expect(Full.created[0]!.aborted).toBe(true);
    expect((await rpcError(host.request('instance/enable', { instanceId: instance.id }))).code).toBe(ErrorCodes.UnknownInstance);
  });

  it('answers capability methods the plugin lacks with NotSupported', async () => {
    host = await createTestHost(bare);
    const instance = await host.createInstance();
    await instance.enable();
    expect((await rpcError(instance.display())).code).toBe(ErrorCodes.NotSupported);
    expect((await rpcError(instance.webhook())).code).toBe(ErrorCodes.NotSupported);
    expect((await rpcError(instance.setConfig('a: 1'))).code).toBe(ErrorCodes.NotSupported);
  });

  it('turns a throwing constructor into PluginError and keeps serving', async () => {
    host = await createTestHost(full);
    const error = await rpcError(host.createInstance({ user: { name: 'explode' } }));
    expect(error).toMatchObject({ code: ErrorCodes.PluginError, message: 'cannot serve this user' });
    await expect(host.createInstance()).resolves.toBeDefined();
  });

  it('refuses a duplicate instance id', async () => {
    host = await createTestHost(full);
    await host.createInstance({ instanceId: 'a' });
    expect((await rpcError(host.request('instance/create', { instanceId: 'a', user: { id: 2, name: 'b', admin: false }, webhookBasePath: '/x/' }))).code).toBe(
      ErrorCodes.InvalidParams,
    );
  });

  it('enables and disables, idempotently, and reports a refused enable', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    await instance.enable();
    await instance.enable();
    expect(Full.created[0]!.enabled).toBe(true);
    await instance.disable();
    await instance.disable();
    expect(Full.created[0]!.enabled).toBe(false);
    await instance.setConfig('greeting: refuse');
    expect(await rpcError(instance.enable())).toMatchObject({ code: ErrorCodes.PluginError, message: 'greeting "refuse" cannot be enabled' });
  });
});

describe('servePlugin config', () => {
  it('writes the default config as YAML with the secret keys', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    expect(await host.request('config/default', { instanceId: instance.id })).toEqual({
      config: 'greeting: hello\nnested:\n  count: 1\n  label: one\n',
      secretKeys: ['greeting'],
    });
  });

  it('merges the user YAML onto the defaults by top-level key', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    await instance.setConfig('greeting: hey\n');
    expect(Full.created[0]!.config).toEqual({ greeting: 'hey', nested: { count: 1, label: 'one' } });
    await instance.setConfig('nested:\n  count: 7\n');
    expect(Full.created[0]!.config).toEqual({ greeting: 'hello', nested: { count: 7 } });
    await instance.setConfig('');
    expect(Full.created[0]!.config).toEqual({ greeting: 'hello', nested: { count: 1, label: 'one' } });
    await instance.setConfig(await instance.defaultConfig());
  });

  it('gives each instance its own copy of the same config text', async () => {
    host = await createTestHost(full);
    const instances = [await host.createInstance(), await host.createInstance(), await host.createInstance()];
    // The kit parses a text once for all instances (at start most have the same one): changing
    // what one instance got must not change what the others get.
    for (const [index, instance] of instances.entries()) {
      await instance.setConfig('nested:\n  count: 7\n');
      expect(Full.created[index]!.config).toEqual({ greeting: 'hello', nested: { count: 7 } });
      Full.created[index]!.config!.nested.count = 99;
    }
  });

  // A 1.0 host sends only the text: the kit parses it itself.
  it('answers a YAML syntax error from a 1.0 host with a one-line InvalidConfig and keeps the old config', async () => {
    host = await createTestHost(full, { protocolVersions: ['1.0'] });
    const instance = await host.createInstance();
    await instance.setConfig('greeting: hi');
    const error = await rpcError(host.request('config/validateAndSet', { instanceId: instance.id, config: 'greeting: [unclosed' }));
    expect(error.code).toBe(ErrorCodes.InvalidConfig);
    expect(error.message).toMatch(/^config is not valid YAML: .+/);
    expect(error.message).not.toContain('\n');
    expect(Full.created[0]!.config?.greeting).toBe('hi');
  });

  it('answers a rejected config and a non-mapping with InvalidConfig and the reason', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    expect(await rpcError(instance.setConfig('greeting: ""'))).toMatchObject({ code: ErrorCodes.InvalidConfig, message: 'greeting must not be empty' });
    expect(await rpcError(host.request('config/validateAndSet', { instanceId: instance.id, config: '- a\n- b' }))).toMatchObject({
      code: ErrorCodes.InvalidConfig,
      message: 'config must be a mapping of keys to values, not a list',
    });
    // The test host, like the server, refuses a non-mapping before the plugin sees it (spec §7.6).
    expect(await rpcError(instance.setConfig('- a\n- b'))).toMatchObject({ code: ErrorCodes.InvalidConfig, message: expect.stringMatching(/must be a YAML mapping/) });
  });

  it('takes the host-parsed JSON value on 1.1 without parsing the text', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    // The text says one thing, the value another: a 1.1 plugin goes by the value the host parsed.
    await host.request('config/validateAndSet', { instanceId: instance.id, config: 'greeting: from-text', value: { greeting: 'from-value' } });
    expect(Full.created[0]!.config?.greeting).toBe('from-value');
    // YAML 1.2 core schema: `yes` is a string, `0o17` octal.
    await instance.setConfig('greeting: yes\nnested: {count: 0o17}');
    expect(Full.created[0]!.config).toEqual({ greeting: 'yes', nested: { count: 15 } });
  });
});

describe('servePlugin display and webhooks', () => {
  it('passes the location with a ready webhook URL', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance({ instanceId: '7', user: { name: 'bob' } });
    const markdown = await instance.display({ scheme: 'https', host: 'flow.example:8443', webhookBasePath: '/proxy/plugin/3/custom/Pabc/' });
    expect(markdown).toBe('Send to https://flow.example:8443/proxy/plugin/3/custom/Pabc/hook as bob');
  });

  it('relays bytes both ways untouched', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x0a]);
    const reply = await instance.webhook({ method: 'post', path: '/echo', query: { q: 'a b&c' }, body: bytes });
    expect(reply.status).toBe(201);
    expect(reply.headers).toEqual({ 'x-echo': 'a b&c', 'content-type': 'application/octet-stream' });
    expect(reply.body.equals(bytes)).toBe(true);
  });

  it('sends objects as JSON and strings as text', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    const json = await instance.webhook({ method: 'PUT', path: '/json', headers: { 'X-Test': 'yes' }, body: { a: [1, 'é'] } });
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.json()).toEqual({ method: 'PUT', got: { a: [1, 'é'] }, header: 'yes' });
    const text = await instance.webhook({ path: '/text', body: 'grüß' });
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.text()).toBe('GRÜSS');
  });

  it('turns thrown errors and bad replies into PluginError', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    expect(await rpcError(instance.webhook({ path: '/throw' }))).toMatchObject({ code: ErrorCodes.PluginError, message: 'webhook handler broke' });
    expect(await rpcError(instance.webhook({ path: '/throw-string' }))).toMatchObject({ code: ErrorCodes.PluginError, message: 'a bare string' });
    expect((await rpcError(instance.webhook({ path: '/json', body: 'not json' }))).code).toBe(ErrorCodes.PluginError);
    expect((await rpcError(instance.webhook({ path: '/bad-status' }))).message).toMatch(/status 42/);
    expect((await instance.webhook({ path: '/nowhere' })).status).toBe(404);
    // The user gets the message; the stack goes to the log for the author.
    const logged = host.stderr.map((line) => JSON.parse(line) as { level: string; message: string; fields?: { stack?: string } });
    expect(logged.find((line) => line.message === 'handleWebhook threw: webhook handler broke')).toMatchObject({ level: 'warn', fields: { stack: expect.stringMatching(/serve\.test\.ts/) } });
  });
});

describe('servePlugin host services', () => {
  it('sends messages as the instance', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance({ instanceId: 'm1' });
    const reply = await instance.webhook({ method: 'POST', path: '/send', body: 'hi there' });
    expect(reply.json()).toEqual({ id: 1 });
    expect(host.messages).toEqual([{ id: 1, instanceId: 'm1', message: 'hi there', title: 'from webhook', priority: 4, extras: { 'plugin::name': 'full' } }]);
  });

  it('tells a plugin that forgot `uses` what to add, without calling the host', async () => {
    host = await createTestHost(forgetful);
    const instance = await host.createInstance();
    expect(await rpcError(instance.webhook({ path: '/kv' }))).toMatchObject({ code: ErrorCodes.PluginError, message: "ctx.kv/get needs uses: ['storager'] in definePlugin" });
    expect(await rpcError(instance.webhook({ path: '/send' }))).toMatchObject({ code: ErrorCodes.PluginError, message: "ctx.send needs uses: ['messenger'] in definePlugin" });
    expect(host.traffic.filter((entry) => entry.direction === 'pluginToHost' && 'method' in (entry.message as object))).toEqual([]);
  });

  it('rejects an invalid message before it reaches the host', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    const error = await rpcError(instance.webhook({ method: 'POST', path: '/send', body: '' }));
    expect(error.message).toMatch(/^ctx.send: invalid message: message:/);
    expect(host.messages).toEqual([]);
  });

  it('loads and saves the blob and the key-value store', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    expect((await instance.webhook({ path: '/storage' })).json()).toEqual({ before: null, visits: '1', missing: null, keys: ['visits'], deleted: true, deletedAgain: false });
    expect((await instance.webhook({ path: '/storage' })).json()).toMatchObject({ before: { n: 1 }, visits: '2' });
    expect(JSON.parse(instance.storage.toString())).toEqual({ n: 2 });
    expect([...instance.kv]).toEqual([['visits', '2']]);
  });

  it('surfaces the host quota as the handler error', async () => {
    host = await createTestHost(full, { limits: { storageQuotaBytes: 100 } });
    const instance = await host.createInstance();
    await instance.webhook({ path: '/big-save', query: { bytes: '60' } });
    expect(instance.storage.length).toBe(60);
    const error = await rpcError(instance.webhook({ path: '/big-save', query: { bytes: '101' } }));
    expect(error).toMatchObject({ code: ErrorCodes.PluginError, message: 'storage quota of 100 bytes exceeded' });
    expect(instance.storage.length).toBe(60);
    host.handle('storage/save', () => {
      throw new RpcError(ErrorCodes.QuotaExceeded, 'disk full', { limitBytes: 100, usedBytes: 60 });
    });
    expect((await rpcError(instance.webhook({ path: '/big-save', query: { bytes: '10' } }))).message).toBe('disk full');
    expect(instance.storage.length).toBe(60);
  });

  it('sends ctx.log lines as log/write with the instance id', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance({ instanceId: 'L' });
    await instance.webhook({ path: '/log' });
    await host.waitFor(() => host!.logs.length > 0);
    expect(host.logs).toEqual([{ level: 'warn', message: 'something odd', instanceId: 'L', fields: { path: '/log' } }]);
  });

  it('delivers subscribed messages and logs a failing subscriber without answering', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    instance.sendMessageToSubscriber({ title: 'crash' });
    instance.sendMessageToSubscriber({ message: 'from the phone' });
    await host.waitFor(() => host!.messages.length === 1 && host!.logs.length === 1);
    expect(host.messages[0]).toMatchObject({ message: 'forwarded: from the phone' });
    expect(host.logs[0]).toMatchObject({ level: 'error', message: 'onMessage failed: subscriber broke', instanceId: instance.id });
  });
});

describe('servePlugin concurrency and cancellation', () => {
  it('answers other requests while a handler is still running', async () => {
    host = await createTestHost(full);
    const slow = await host.createInstance();
    const other = await host.createInstance();
    const waiting = slow.webhook({ path: '/wait' });
    // Both answered while /wait is still pending: the reader and other instances are not blocked.
    expect((await other.webhook({ path: '/text', body: 'x' })).text()).toBe('X');
    expect((await slow.webhook({ path: '/text', body: 'y' })).text()).toBe('Y');
    const controller = new AbortController();
    const cancelled = rpcError(host.request('webhook/request', { instanceId: slow.id, method: 'GET', path: '/wait', query: '', headers: {}, body: '' }, { signal: controller.signal }));
    controller.abort();
    expect((await cancelled).code).toBe(ErrorCodes.RequestCancelled);
    // Destroying the instance aborts the signals of its running calls.
    await slow.destroy();
    expect((await waiting).text()).toBe('too late');
  });

  it('answers $/cancelRequest with RequestCancelled and aborts the handler signal', async () => {
    host = await createTestHost(full);
    const instance = await host.createInstance();
    const pending = rpcError(instance.webhook({ path: '/wait' }));
    await host.waitFor(() => host!.traffic.some((entry) => (entry.message as { method?: string }).method === 'webhook/request'));
    const request = host.traffic.find((entry) => (entry.message as { method?: string }).method === 'webhook/request')!.message as { id: number };
    host.notify('$/cancelRequest', { id: request.id });
    expect((await pending).code).toBe(ErrorCodes.RequestCancelled);
    // The handler saw its signal abort and logged; its late result was dropped, not sent twice.
    await host.waitFor(() => host!.logs.some((line) => line.message === 'wait was cancelled'));
    const answers = host.traffic.filter((entry) => entry.direction === 'pluginToHost' && (entry.message as { id?: number }).id === request.id);
    expect(answers).toHaveLength(1);
  });
});
