/**
 * @flow/plugin-kit/testing: drive a plugin the way the Flow server does.
 *
 * The test host speaks the real protocol (Content-Length frames, JSON-RPC) to the plugin, either
 * in this process over linked in-memory streams or to a child process, and plays the server's
 * part for the plugin's calls: in-memory storage and key-value store with the quota, captured
 * messages and log lines. Every message the plugin sends is checked against the protocol's
 * schemas (`host.violations`).
 *
 * Every symbol exported here is public API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { stringify as stringifyYaml } from 'yaml';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_STORAGE_QUOTA_BYTES,
  DEFAULT_WEBHOOK_BODY_BYTES,
  ErrorCodes,
  KV_LIST_MAX_PAGE,
  SUPPORTED_PROTOCOL_VERSIONS,
  methodByName,
  parseConfigYaml,
  versionAtLeast,
  type HostLimits,
  type InitializeResult,
  type LogParams,
  type Message,
  type UserContext,
} from '@flow/protocol';
import { Peer, RpcError, type PeerProblem, type RequestOptions } from './connection.js';
import type { PluginDefinition } from './define.js';
import { ProtocolChecker } from './protocol-check.js';
import { LAUNCH_ENV, servePlugin } from './serve.js';

export { ProtocolChecker } from './protocol-check.js';
export { RpcError } from './connection.js';

export interface TestHostOptions {
  /** Versions offered in `initialize`; default: every version this kit speaks. */
  protocolVersions?: string[];
  /** Limits announced in `initialize`; storageQuotaBytes is also enforced by the in-memory store. */
  limits?: Partial<HostLimits>;
  /** Send `initialize` and `initialized` at once (default true). Set false to test the handshake itself. */
  handshake?: boolean;
  /** Child process only: extra environment variables; `undefined` removes one (even the launch marker). */
  env?: Record<string, string | undefined>;
  /** Child process only: working directory. */
  cwd?: string;
  /**
   * Deadline of each request the host sends without one of its own, the handshake's included;
   * default: each method's protocol deadline (10 s for `initialize`). A slow or busy machine
   * (e.g. `flow-plugin check --step-timeout`) sets a longer one.
   */
  requestTimeoutMs?: number;
}

export interface ChildProcessTarget extends TestHostOptions {
  /** The plugin's command line, e.g. `['node', 'dist/flow-echo.mjs']` or `['python3', 'plugin.py']`. */
  command: readonly string[];
}

/** The plugin side's answer to a webhook request. */
export interface WebhookResult {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface WebhookCall {
  /** Default "GET". */
  method?: string;
  /** Relative to the instance's base path; default "/". */
  path?: string;
  /** Raw query string or key/value pairs. */
  query?: string | Record<string, string>;
  headers?: Record<string, string>;
  /** A string or bytes as is; an object as JSON (with content-type application/json unless given). */
  body?: string | Buffer | Uint8Array | object;
  remoteAddress?: string;
}

/** A message the plugin sent (`message/send`), with the id the test host gave it. */
export interface SentMessage {
  id: number;
  instanceId: string;
  message: string;
  title?: string;
  priority?: number;
  extras?: Record<string, unknown>;
}

/** What a plugin → host method does; the test host has one per method, `host.handle` replaces it. */
export type HostHandler = (params: any, instance: TestInstance) => unknown;

/** A linked pair of in-memory streams: what one side writes, the other reads. */
export function createStreamPair(): { host: { input: Readable; output: Writable }; plugin: { input: Readable; output: Writable } } {
  const toPlugin = new PassThrough();
  const toHost = new PassThrough();
  return { host: { input: toHost, output: toPlugin }, plugin: { input: toPlugin, output: toHost } };
}

/**
 * Starts a plugin and (unless `handshake: false`) completes the handshake.
 *
 * @example
 * const host = await createTestHost(plugin);                             // in this process
 * const host = await createTestHost({ command: ['node', 'dist/flow-minimal.mjs'] }); // child process
 * const inst = await host.createInstance();
 * await inst.enable();
 * await host.close();
 */
export async function createTestHost(target: PluginDefinition | ChildProcessTarget, options: TestHostOptions = {}): Promise<TestHost> {
  const settings: TestHostOptions = 'command' in target ? target : options;
  const limits: HostLimits = {
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    storageQuotaBytes: DEFAULT_STORAGE_QUOTA_BYTES,
    webhookBodyBytes: DEFAULT_WEBHOOK_BODY_BYTES,
    ...settings.limits,
  };
  const host = 'command' in target ? TestHost.spawn(target, limits) : TestHost.inProcess(target, limits);
  host.requestTimeoutMs = settings.requestTimeoutMs;
  if (settings.handshake !== false) {
    try {
      await host.initialize(settings.protocolVersions);
    } catch (error) {
      // A plugin that fails to start says why on stderr: put that in the error, not just "closed".
      await host.close();
      const reason = host.startError ?? (error instanceof Error ? error.message : String(error));
      const tail = host.stderr.filter((line) => line.trim() !== '').slice(-10);
      const failure = new Error(`the plugin did not complete the handshake: ${reason}${tail.length > 0 ? `\nlast stderr lines:\n  ${tail.join('\n  ')}` : ''}`);
      throw Object.assign(failure, { cause: error, code: error instanceof RpcError ? error.code : undefined, data: error instanceof RpcError ? error.data : undefined });
    }
    host.notify('initialized', {});
  }
  return host;
}

/**
 * The server's side of one plugin connection, for tests: sends what the server sends, answers
 * the plugin's calls from memory, records everything. Made by `createTestHost`; end it with `close`.
 */
export class TestHost {
  /** Messages the plugin sent, oldest first. */
  readonly messages: SentMessage[] = [];
  /** `log/write` lines from the plugin. */
  readonly logs: LogParams[] = [];
  /** The plugin's stderr, line by line (JSON log lines as text). */
  readonly stderr: string[] = [];
  /** Every message in both directions, in order: a transcript for debugging and assertions. */
  readonly traffic: Array<{ direction: 'hostToPlugin' | 'pluginToHost'; message: unknown }> = [];
  /** Problems the host's reader had with the plugin's bytes (garbage on stdout, bad frames). */
  readonly transportProblems: PeerProblem[] = [];
  /** Set by `initialize`. */
  initializeResult: InitializeResult | undefined;
  /** Why the child process could not be started (ENOENT, EACCES), if it could not. */
  startError: string | undefined;
  /** Resolves with the plugin's exit code (in-process: the code it would exit with). */
  readonly exited: Promise<number>;
  /** See TestHostOptions.requestTimeoutMs. */
  requestTimeoutMs: number | undefined;

  private readonly checker = new ProtocolChecker('pluginToHost');
  private readonly peer: Peer;
  private readonly instances = new Map<string, TestInstance>();
  private readonly handlers = new Map<string, HostHandler>();
  private readonly waiters = new Set<() => void>();
  private nextInstance = 1;
  private nextMessageId = 1;
  private closing: Promise<number> | undefined;
  private readonly output: Writable;

  private constructor(
    streams: { input: Readable; output: Writable },
    exited: Promise<number>,
    readonly limits: HostLimits,
    private readonly kill: () => void,
  ) {
    this.exited = exited;
    this.output = streams.output;
    this.peer = new Peer({
      input: streams.input,
      output: streams.output,
      maxFrameBytes: limits.maxFrameBytes,
      handlers: {
        request: ({ method, params }) => this.serve(method, params),
        notification: (method, params) => this.onNotification(method, params),
        problem: (problem) => {
          this.transportProblems.push(problem);
          this.changed();
        },
        close: () => this.changed(),
      },
      trace: (direction, message) => this.record(direction === 'sent' ? 'hostToPlugin' : 'pluginToHost', message),
    });
    this.installDefaultHandlers();
  }

  /** @internal Use createTestHost. */
  static inProcess(plugin: PluginDefinition, limits: HostLimits): TestHost {
    const pair = createStreamPair();
    const stderr = new PassThrough();
    const server = servePlugin(plugin, { ...pair.plugin, stderr, maxFrameBytes: limits.maxFrameBytes });
    const host = new TestHost(pair.host, server.done, limits, () => {
      if (!pair.host.output.writableEnded) pair.host.output.end();
    });
    host.collectStderr(stderr);
    return host;
  }

  /** @internal Use createTestHost. */
  static spawn(target: ChildProcessTarget, limits: HostLimits): TestHost {
    const [file, ...args] = target.command;
    if (!file) throw new TypeError('createTestHost: command is empty');
    const env: Record<string, string | undefined> = { ...process.env, [LAUNCH_ENV]: (target.protocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS).join(','), ...target.env };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const child: ChildProcess = spawn(file, args, {
      cwd: target.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      child.on('error', (error) => {
        host.startError = `cannot start ${file}: ${error.message}`;
        resolve(127);
      });
    });
    const host = new TestHost({ input: child.stdout!, output: child.stdin! }, exited, limits, () => child.kill('SIGKILL'));
    host.collectStderr(child.stderr!);
    // A plugin that dies early breaks the pipe; that shows up as its exit code, not an EPIPE crash here.
    child.stdin!.on('error', () => {});
    return host;
  }

  /** Problems found in the plugin's messages by the schema check. Tests should expect `[]`. */
  get violations(): readonly string[] {
    return this.checker.violations;
  }

  /** Sends `initialize`; rejects with the plugin's error (RpcError) as the server would see it. */
  async initialize(protocolVersions: string[] = [...SUPPORTED_PROTOCOL_VERSIONS]): Promise<InitializeResult> {
    const result = (await this.request('initialize', { protocolVersions, host: { name: 'flow-test-host', version: '1.0.0' }, limits: this.limits })) as InitializeResult;
    this.initializeResult = result;
    return result;
  }

  /** A raw request, with the host's or else the method's default deadline. Rejects with RpcError. */
  request(method: string, params: unknown, options: RequestOptions = {}): Promise<unknown> {
    const definition = methodByName(method);
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs ?? (definition?.kind === 'request' ? definition.defaultTimeoutMs : 10_000);
    return this.peer.request(method, params, { ...options, timeoutMs });
  }

  notify(method: string, params: unknown): void {
    this.peer.notify(method, params);
  }

  /** Replaces what the host does for a plugin → host method (e.g. make `kv/set` fail). */
  handle(method: string, handler: HostHandler): void {
    this.handlers.set(method, handler);
  }

  /** Creates an instance as the server does for each user (`instance/create`). */
  async createInstance(options: { instanceId?: string; user?: Partial<UserContext>; webhookBasePath?: string } = {}): Promise<TestInstance> {
    const instanceId = options.instanceId ?? String(this.nextInstance++);
    const user: UserContext = { id: 1, name: 'alice', admin: false, ...options.user };
    const webhookBasePath = options.webhookBasePath ?? `/plugin/1/custom/Ptest${instanceId}/`;
    const instance = new TestInstance(this, instanceId, user, webhookBasePath);
    this.instances.set(instanceId, instance);
    try {
      await this.request('instance/create', { instanceId, user, webhookBasePath });
    } catch (error) {
      this.instances.delete(instanceId);
      throw error;
    }
    return instance;
  }

  /** Resolves once `predicate` holds, re-checked whenever the plugin sends something; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`waitFor: condition still false after ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /**
   * Writes one hand-made message as a frame, bypassing the host's own bookkeeping (its answer
   * shows up in `traffic`, not as a resolved request): for tests of odd but valid traffic.
   */
  writeFrame(message: Record<string, unknown>): void {
    this.record('hostToPlugin', message);
    const json = JSON.stringify(message);
    this.writeRaw(`Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
  }

  /** Messages the plugin sent that answer `id` (normally one). */
  answersTo(id: number | string | null): unknown[] {
    return this.traffic.filter((entry) => entry.direction === 'pluginToHost' && (entry.message as { id?: unknown }).id === id && !('method' in (entry.message as object))).map((entry) => entry.message);
  }

  /** Declares that a request written by hand with `writeRaw` expects an answer, so the schema check accepts it. */
  expectAnswer(id: number | string, method: string): void {
    this.checker.expectAnswer(id, method);
  }

  /** Writes bytes as they are, after any queued frames, outside any frame: for bad-input tests. */
  writeRaw(data: string | Buffer): void {
    void this.peer.flush();
    this.output.write(data);
  }

  /**
   * Stops the plugin the way the server does: `shutdown`, `exit`, then waits for it to end
   * (SIGKILL after 5 s for a child). Resolves with the exit code. Safe to call twice.
   */
  close(): Promise<number> {
    this.closing ??= (async () => {
      if (!this.peer.isClosed) {
        await this.request('shutdown', {}).catch(() => undefined);
        this.notify('exit', {});
        await this.peer.flush();
      }
      const timer = setTimeout(() => this.kill(), 5_000);
      const code = await this.exited;
      clearTimeout(timer);
      this.kill();
      this.peer.close();
      return code;
    })();
    return this.closing;
  }

  /** Ends the plugin's stdin without `shutdown`, as a crashed server would. Resolves with the exit code. */
  async closeInput(): Promise<number> {
    await this.peer.flush();
    this.output.end();
    return this.exited;
  }

  /** @internal */
  instanceById(instanceId: string): TestInstance | undefined {
    return this.instances.get(instanceId);
  }

  /** @internal */
  forget(instanceId: string): void {
    this.instances.delete(instanceId);
  }

  private record(direction: 'hostToPlugin' | 'pluginToHost', message: unknown): void {
    this.traffic.push({ direction, message });
    if (direction === 'pluginToHost') this.checker.check(message);
    else {
      const m = message as { id?: number | string; method?: string };
      if (m.method !== undefined && m.id !== undefined) this.checker.expectAnswer(m.id, m.method);
    }
    // After the message has been handled (logs, messages captured), not before.
    queueMicrotask(() => this.changed());
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private collectStderr(stream: Readable): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      this.stderr.push(...lines);
      this.changed();
    });
    stream.on('end', () => {
      if (partial) this.stderr.push(partial);
      this.changed();
    });
  }

  private onNotification(method: string, params: unknown): void {
    if (method === 'log/write') this.logs.push(params as LogParams);
  }

  /**
   * Runs before every plugin → host request is answered, and may delay it (resolve later): the
   * conformance kit holds host calls to check that a plugin keeps reading (pings) meanwhile.
   */
  beforeHostCall: ((method: string, params: unknown) => Promise<void> | void) | undefined;

  private serve(method: string, params: unknown): unknown {
    const gate = this.beforeHostCall?.(method, params);
    if (gate) return gate.then(() => this.answerHostCall(method, params));
    return this.answerHostCall(method, params);
  }

  private answerHostCall(method: string, params: unknown): unknown {
    const definition = methodByName(method);
    if (!definition || definition.direction !== 'pluginToHost' || definition.kind !== 'request') throw new RpcError(ErrorCodes.MethodNotFound, `unknown method "${method}"`);
    if (definition.capability && !this.initializeResult?.capabilities.includes(definition.capability)) {
      throw new RpcError(ErrorCodes.NotSupported, `${method} needs the ${definition.capability} capability, which the plugin did not declare`);
    }
    const parsed = definition.params.safeParse(params);
    if (!parsed.success) throw new RpcError(ErrorCodes.InvalidParams, `invalid params for "${method}"`, { issues: parsed.error.issues });
    const data = parsed.data as { instanceId: string };
    const instance = this.instances.get(data.instanceId);
    if (!instance) throw new RpcError(ErrorCodes.UnknownInstance, `no instance "${data.instanceId}"`);
    const handler = this.handlers.get(method);
    if (!handler) throw new RpcError(ErrorCodes.MethodNotFound, `the test host does not implement "${method}"`);
    return handler(data, instance);
  }

  private installDefaultHandlers(): void {
    // Spec §12: refused when the write grows usage past the quota; shrinking always succeeds.
    const quota = (instance: TestInstance, change: number): void => {
      const used = instance.usedBytes();
      if (change > 0 && used + change > this.limits.storageQuotaBytes) {
        throw new RpcError(ErrorCodes.QuotaExceeded, `storage quota of ${this.limits.storageQuotaBytes} bytes exceeded`, { limitBytes: this.limits.storageQuotaBytes, usedBytes: used });
      }
    };
    this.handle('message/send', (params: Omit<SentMessage, 'id'>) => {
      const id = this.nextMessageId++;
      this.messages.push({ id, ...params });
      this.changed();
      return { id };
    });
    this.handle('storage/load', (_params, instance: TestInstance) => ({ data: instance.storage.toString('base64') }));
    this.handle('storage/save', (params: { data: string }, instance: TestInstance) => {
      const data = Buffer.from(params.data, 'base64');
      quota(instance, data.length - instance.storage.length);
      instance.storage = data;
      return {};
    });
    this.handle('kv/get', (params: { key: string }, instance: TestInstance) => ({ value: instance.kv.get(params.key) ?? null }));
    this.handle('kv/set', (params: { key: string; value: string }, instance: TestInstance) => {
      const old = instance.kv.get(params.key);
      const size = (value: string | undefined): number => (value === undefined ? 0 : Buffer.byteLength(params.key) + Buffer.byteLength(value));
      quota(instance, size(params.value) - size(old));
      instance.kv.set(params.key, params.value);
      return {};
    });
    this.handle('kv/delete', (params: { key: string }, instance: TestInstance) => ({ deleted: instance.kv.delete(params.key) }));
    this.handle('kv/list', (params: { prefix?: string; cursor?: string; limit?: number }, instance: TestInstance) => {
      const keys = [...instance.kv.keys()].filter((key) => key.startsWith(params.prefix ?? '')).sort();
      if (!versionAtLeast(this.initializeResult?.protocolVersion, '1.1')) return { keys };
      const after = params.cursor === undefined ? keys : keys.filter((key) => key > params.cursor!);
      const page = after.slice(0, params.limit ?? KV_LIST_MAX_PAGE);
      return page.length < after.length ? { keys: page, nextCursor: page[page.length - 1] } : { keys: page };
    });
    this.handle('kv/compareAndSet', (params: { key: string; expected: string | null; value: string | null }, instance: TestInstance) => {
      const current = instance.kv.get(params.key) ?? null;
      if (current !== params.expected) return { swapped: false, value: current };
      if (params.value === null) instance.kv.delete(params.key);
      else {
        const size = (value: string | null): number => (value === null ? 0 : Buffer.byteLength(params.key) + Buffer.byteLength(value));
        quota(instance, size(params.value) - size(current));
        instance.kv.set(params.key, params.value);
      }
      return { swapped: true, value: params.value };
    });
    this.handle('kv/increment', (params: { key: string; delta?: number }, instance: TestInstance) => {
      const current = instance.kv.get(params.key);
      if (current !== undefined && !/^-?(0|[1-9]\d{0,15})$/.test(current)) {
        throw new RpcError(ErrorCodes.InvalidParams, `kv/increment: the key "${params.key}" does not hold a decimal integer`, { issues: [{ path: ['key'], message: 'not a decimal integer' }] });
      }
      const next = Number(current ?? '0') + (params.delta ?? 1);
      if (!Number.isSafeInteger(next)) throw new RpcError(ErrorCodes.InvalidParams, `kv/increment: ${next} is beyond ±(2^53−1)`, { issues: [{ path: ['key'], message: 'beyond ±(2^53−1)' }] });
      const size = (value: string | undefined): number => (value === undefined ? 0 : Buffer.byteLength(params.key) + Buffer.byteLength(value));
      quota(instance, size(String(next)) - size(current));
      instance.kv.set(params.key, String(next));
      return { value: next };
    });
  }
}

/** One plugin instance, with the in-memory storage the test host keeps for it. */
export class TestInstance {
  /** The storage blob (`storage/load` / `storage/save`). */
  storage: Buffer = Buffer.alloc(0);
  /** The key-value entries. */
  readonly kv = new Map<string, string>();

  constructor(
    readonly host: TestHost,
    readonly id: string,
    readonly user: UserContext,
    readonly webhookBasePath: string,
  ) {}

  /** Messages this instance sent. */
  get messages(): SentMessage[] {
    return this.host.messages.filter((message) => message.instanceId === this.id);
  }

  /** `log/write` lines about this instance. */
  get logs(): LogParams[] {
    return this.host.logs.filter((line) => line.instanceId === this.id);
  }

  /** @internal Bytes counted against the quota. */
  usedBytes(): number {
    let used = this.storage.length;
    for (const [key, value] of this.kv) used += Buffer.byteLength(key) + Buffer.byteLength(value);
    return used;
  }

  async enable(): Promise<void> {
    await this.host.request('instance/enable', { instanceId: this.id });
  }

  async disable(): Promise<void> {
    await this.host.request('instance/disable', { instanceId: this.id });
  }

  async destroy(): Promise<void> {
    await this.host.request('instance/destroy', { instanceId: this.id });
    this.host.forget(this.id);
  }

  /** The default config YAML (`config/default`; a 1.1 `value`-only answer rendered as the server does). */
  async defaultConfig(): Promise<string> {
    const result = (await this.host.request('config/default', { instanceId: this.id })) as { config?: string; value?: unknown };
    return result.config ?? stringifyYaml(result.value ?? {}, { version: '1.2' });
  }

  /**
   * `config/validateAndSet`; rejects with RpcError (code InvalidConfig, the plugin's reason as message).
   * As the server, the host parses the YAML first (spec §7.6): text that does not parse to a mapping
   * rejects with InvalidConfig without reaching the plugin; on 1.1 the JSON form goes along as `value`.
   * (The plugin's configSchema is not checked here: the server does that, with ajv.)
   */
  async setConfig(yaml: string): Promise<void> {
    const parsed = parseConfigYaml(yaml);
    if (!parsed.ok) throw new RpcError(ErrorCodes.InvalidConfig, parsed.issue.message);
    const speaks11 = versionAtLeast(this.host.initializeResult?.protocolVersion, '1.1');
    await this.host.request('config/validateAndSet', speaks11 ? { instanceId: this.id, config: yaml, value: parsed.value } : { instanceId: this.id, config: yaml });
  }

  /** The plugin page's markdown (`display/get`). */
  async display(location: { scheme?: 'http' | 'https'; host?: string; webhookBasePath?: string } = {}): Promise<string> {
    const full = { scheme: location.scheme ?? 'http', host: location.host ?? 'localhost:8080', webhookBasePath: location.webhookBasePath ?? this.webhookBasePath };
    return ((await this.host.request('display/get', { instanceId: this.id, location: full })) as { markdown: string }).markdown;
  }

  /** A webhook request as the server relays it (`webhook/request`). */
  async webhook(call: WebhookCall = {}): Promise<WebhookResult> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(call.headers ?? {})) headers[name.toLowerCase()] = value;
    let body: Buffer;
    if (call.body === undefined) body = Buffer.alloc(0);
    else if (typeof call.body === 'string') body = Buffer.from(call.body, 'utf8');
    else if (call.body instanceof Uint8Array) body = Buffer.from(call.body);
    else {
      body = Buffer.from(JSON.stringify(call.body), 'utf8');
      headers['content-type'] ??= 'application/json';
    }
    const query = typeof call.query === 'string' ? call.query : new URLSearchParams(call.query ?? {}).toString();
    const params: Record<string, unknown> = {
      instanceId: this.id,
      method: (call.method ?? 'GET').toUpperCase(),
      path: call.path ?? '/',
      query,
      headers,
      body: body.toString('base64'),
    };
    if (call.remoteAddress !== undefined) params.remoteAddress = call.remoteAddress;
    const reply = (await this.host.request('webhook/request', params)) as { status: number; headers?: Record<string, string | string[]>; body?: string };
    const bytes = Buffer.from(reply.body ?? '', 'base64');
    return {
      status: reply.status,
      headers: reply.headers ?? {},
      body: bytes,
      text: () => bytes.toString('utf8'),
      json: <T>() => JSON.parse(bytes.toString('utf8')) as T,
    };
  }

  /**
   * Delivers a message of this instance's user (`message/received`, a notification). Fields left
   * out get defaults. Use `host.waitFor` to wait for what the plugin does with it.
   */
  sendMessageToSubscriber(message: Partial<Message> = {}): Message {
    const full: Message = { id: 1, appid: 1, message: 'hello', title: 'test', priority: 5, date: new Date().toISOString(), ...message };
    this.host.notify('message/received', { instanceId: this.id, message: full });
    return full;
  }
}
