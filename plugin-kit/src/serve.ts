import type { Readable, Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  DEFAULT_MAX_FRAME_BYTES,
  ErrorCodes,
  LogWrite,
  SUPPORTED_PROTOCOL_VERSIONS,
  methodByName,
  negotiateVersion,
  versionAtLeast,
  type HostLimits,
  type LogLevel,
  type RequestDefinition,
  type ResultOf,
  type WebhookRequestParams,
} from '@flow/protocol';
import { Peer, RpcError, type IncomingRequest, type PeerProblem } from './connection.js';
import type { PluginDefinition } from './define.js';
import { writeLogLine } from './log.js';
import { LAUNCH_ENV, guardStdout, launchParentPid, writeStdout } from './stdio.js';
import { mergeConfig } from './config.js';
import { KitContext, type ContextHost } from './context.js';
import { ConfigError, type CallContext, type InstanceContext, type LogFields, type PluginHandlers, type PluginInstance } from './instance.js';
import { banner, executableName, usage } from './help.js';
import { encodeReply, webhookRequest } from './webhook.js';

type Instance = PluginInstance<unknown> & PluginHandlers<unknown>;

export { LAUNCH_ENV } from './stdio.js';

/**
 * How long `shutdown` may take in all: disabling instances, then letting aborted handlers settle.
 * Under the Flow server's 2 s stop step (plugins.stoptimeoutms) and the protocol's 5 s default.
 */
const SHUTDOWN_GRACE_MS = 1_500;

export interface ServeOptions {
  input: Readable;
  output: Writable;
  /** Where the kit's own log lines go (JSON lines). Default process.stderr. */
  stderr?: Writable;
  /** Writes to `output`; default `output.write`. runPlugin passes the real stdout writer. */
  write?: (data: string, callback?: () => void) => boolean;
  /** Largest incoming frame body. Default DEFAULT_MAX_FRAME_BYTES; outgoing frames follow the host's `limits.maxFrameBytes`. */
  maxFrameBytes?: number;
}

/** A running protocol session. */
export interface PluginServer {
  /**
   * Resolves with the exit code once the session is over: 0 after `shutdown`, 1 when the input
   * ended or `exit` came without `shutdown`. Output is flushed by then.
   */
  readonly done: Promise<number>;
}

type State = 'new' | 'ready' | 'shuttingDown' | 'done';

/** One instance (one per user: keep it small, see KitContext). */
interface InstanceRecord {
  readonly id: string;
  readonly instance: Instance;
  /** Its `ctx`, which also owns its lifetime signal. */
  readonly context: KitContext;
  enabled: boolean;
  /** The last lifecycle call while one is queued or running (the next starts after it settles); undefined when idle. */
  lifecycle: Promise<unknown> | undefined;
}

/** Where an idle instance's next lifecycle call starts from. */
const SETTLED: Promise<unknown> = Promise.resolve();

/**
 * Serves the protocol for one plugin on a pair of streams. `runPlugin` calls it with
 * stdin/stdout; the test host calls it with in-memory streams. Touches nothing process-wide.
 */
export function servePlugin(definition: PluginDefinition, options: ServeOptions): PluginServer {
  const stderr = options.stderr ?? process.stderr;
  const instances = new Map<string, InstanceRecord>();
  /** Plugin code still running, so shutdown can wait for it. */
  const inFlight = new Set<Promise<unknown>>();
  const capabilities = new Set<string>(definition.capabilities);
  let state: State = 'new';
  let shutdownReceived = false;
  let limits: HostLimits | undefined;
  /** The version agreed at `initialize`: 1.1 features only on a 1.1 connection (spec §14). */
  let protocolVersion: string | undefined;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const kitLog = (level: LogLevel, message: string, fields?: LogFields): void => writeLogLine(stderr, level, message, fields);

  const peer: Peer = new Peer({
    input: options.input,
    output: options.output,
    write: options.write,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    handlers: {
      request: (request) => handleRequest(request),
      notification: (method, params) => handleNotification(method, params),
      problem: (problem: PeerProblem) => kitLog('warn', `bad input from the host: ${problem.message}`, { kind: problem.kind }),
      close: () => void end(shutdownReceived ? 0 : 1),
    },
  });

  function log(level: LogLevel, message: string, fields?: LogFields, instanceId?: string): void {
    if (state === 'ready' || state === 'shuttingDown') {
      const params: Record<string, unknown> = { level, message };
      if (instanceId !== undefined) params.instanceId = instanceId;
      if (fields !== undefined) params.fields = fields;
      peer.notify(LogWrite.method, params);
    } else writeLogLine(stderr, level, message, fields, instanceId);
  }

  /** Runs plugin code; any throw becomes a PluginError whose message reaches the user. */
  async function runPluginCode<T>(what: string, code: () => T | Promise<T>, errorCode: number = ErrorCodes.PluginError): Promise<T> {
    const promise = (async () => code())();
    inFlight.add(promise);
    try {
      return await promise;
    } catch (error) {
      // The message goes to the user; the stack is for the plugin's author, in the host log.
      if (error instanceof Error && !(error instanceof ConfigError) && !(error instanceof RpcError)) kitLog('warn', `${what} threw: ${error.message}`, { stack: error.stack });
      throw new RpcError(errorCode, errorMessage(error, `${what} failed`));
    } finally {
      inFlight.delete(promise);
    }
  }

  function handleRequest(request: IncomingRequest): unknown {
    const { method } = request;
    const definitionOf = methodByName(method);
    if (!definitionOf || definitionOf.kind !== 'request' || definitionOf.direction !== 'hostToPlugin') {
      throw new RpcError(ErrorCodes.MethodNotFound, `unknown method "${method}"`);
    }
    if (method !== 'initialize' && state === 'new') throw new RpcError(ErrorCodes.NotInitialized, `"${method}" before "initialize"; send "initialize" first`);
    if (state === 'shuttingDown' || state === 'done') throw new RpcError(ErrorCodes.ShuttingDown, `"${method}" after "shutdown"; the plugin is stopping`);
    if (definitionOf.capability && !capabilities.has(definitionOf.capability)) {
      throw new RpcError(ErrorCodes.NotSupported, `${definition.info.name ?? definition.info.modulePath} is not a ${definitionOf.capability} ("${method}")`);
    }
    const parsed = definitionOf.params.safeParse(request.params ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map((key) => (typeof key === 'number' ? key : String(key))), message: issue.message, code: issue.code }));
      const first = issues[0]!;
      throw new RpcError(ErrorCodes.InvalidParams, `invalid params for "${method}": ${first.path.join('.') || 'params'}: ${first.message}`, { issues });
    }
    const params = parsed.data as Record<string, any>;
    switch (method) {
      case 'initialize':
        return initialize(params as { protocolVersions: string[]; limits: HostLimits });
      case 'ping':
        return {};
      case 'plugin/info':
        return { info: definition.info, capabilities: [...definition.capabilities] };
      case 'shutdown':
        return shutdown();
      case 'instance/create':
        return createInstance(params.instanceId, params.user, params.webhookBasePath);
    }
    const record = instances.get(params.instanceId);
    if (!record) throw new RpcError(ErrorCodes.UnknownInstance, `no instance "${params.instanceId}"; create it with instance/create first`, { instanceId: params.instanceId });
    const call = callContext(request, record.context);
    const instance = record.instance;
    switch (method) {
      case 'instance/destroy':
        return serially(record, () => destroyInstance(record));
      case 'instance/enable':
        return serially(record, async () => {
          if (record.enabled) return {};
          await runPluginCode('enable', () => instance.enable?.(call));
          record.enabled = true;
          return {};
        });
      case 'instance/disable':
        return serially(record, async () => {
          if (!record.enabled) return {};
          await runPluginCode('disable', () => instance.disable?.(call));
          record.enabled = false;
          return {};
        });
      case 'config/default':
        return runPluginCode('defaultConfig', () => instance.defaultConfig!(call)).then((value) => {
          const config = typeof value === 'string' ? value : stringifyYaml(value ?? {});
          return definition.secretKeys.length > 0 ? { config, secretKeys: [...definition.secretKeys] } : { config };
        });
      case 'config/validateAndSet':
        return serially(record, () => validateAndSetConfig(instance, params.config, params.value, call));
      case 'display/get': {
        const location = params.location as { scheme: string; host: string; webhookBasePath: string };
        const display = { ...location, webhookUrl: `${location.scheme}://${location.host}${location.webhookBasePath}` };
        return runPluginCode('getDisplay', () => instance.getDisplay!(display as never, call)).then((markdown) => {
          if (typeof markdown !== 'string') throw new RpcError(ErrorCodes.PluginError, 'getDisplay must return a markdown string');
          return { markdown };
        });
      }
      case 'webhook/request':
        return runPluginCode('handleWebhook', () => instance.handleWebhook!(webhookRequest(params as WebhookRequestParams), call)).then(encodeReply);
    }
    throw new RpcError(ErrorCodes.MethodNotFound, `unknown method "${method}"`);
  }

  /**
   * Runs one instance's lifecycle calls (enable, disable, config, destroy) one after the other,
   * as the spec has the host send them (§4.1): a disable that overtakes a slow enable would
   * leave the instance enabled against the host's last word.
   */
  function serially<T>(record: InstanceRecord, call: () => Promise<T>): Promise<T> {
    const next = (record.lifecycle ?? SETTLED).then(call, call);
    const tail = next.catch(() => undefined);
    record.lifecycle = tail;
    // Once idle, drop the settled chain: it would keep the last result alive for every instance.
    void tail.then(() => {
      if (record.lifecycle === tail) record.lifecycle = undefined;
    });
    return next;
  }

  function handleNotification(method: string, params: unknown): void {
    if (method === 'exit') {
      void end(shutdownReceived ? 0 : 1);
      return;
    }
    // Notifications have no answer, so anything wrong with one can only be logged.
    if (state === 'new' || state === 'done') return;
    if (method === 'initialized' || method.startsWith('$/')) return;
    if (method !== 'message/received') return kitLog('warn', `ignored unknown notification "${method}"`);
    if (!capabilities.has('subscriber')) return kitLog('warn', 'ignored message/received: the plugin is not a subscriber');
    if (state !== 'ready') return;
    const definitionOf = methodByName(method)!;
    const parsed = definitionOf.params.safeParse(params);
    if (!parsed.success) return kitLog('warn', `ignored message/received with invalid params: ${parsed.error.issues[0]?.message}`);
    const { instanceId, message } = parsed.data as { instanceId: string; message: never };
    const record = instances.get(instanceId);
    if (!record) return kitLog('warn', `ignored message/received for unknown instance "${instanceId}"`);
    const call = lifetimeCall(record.context);
    runPluginCode('onMessage', () => record.instance.onMessage!(message, call)).catch((error: RpcError) =>
      log('error', `onMessage failed: ${error.message}`, undefined, instanceId),
    );
  }

  function initialize(params: { protocolVersions: string[]; limits: HostLimits }): unknown {
    if (state !== 'new') throw new RpcError(ErrorCodes.InvalidRequest, '"initialize" was already received');
    const version = negotiateVersion(params.protocolVersions);
    if (!version) {
      throw new RpcError(
        ErrorCodes.IncompatibleVersion,
        `no common protocol version: the host speaks ${params.protocolVersions.join(', ')}, this plugin speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}; update the plugin or the server`,
        { hostVersions: params.protocolVersions, pluginVersions: [...SUPPORTED_PROTOCOL_VERSIONS] },
      );
    }
    limits = params.limits;
    protocolVersion = version;
    peer.maxOutgoingFrameBytes = limits.maxFrameBytes;
    state = 'ready';
    const result: Record<string, unknown> = { protocolVersion: version, info: definition.info, capabilities: [...definition.capabilities] };
    if (definition.configSchema && versionAtLeast(version, '1.1')) result.configSchema = definition.configSchema;
    return result;
  }

  function createInstance(instanceId: string, user: InstanceContext['user'], webhookBasePath: string): unknown {
    if (instances.has(instanceId)) {
      const message = `instance "${instanceId}" already exists`;
      throw new RpcError(ErrorCodes.InvalidParams, message, { issues: [{ path: ['instanceId'], message }] });
    }
    const context = new KitContext(contextHost, instanceId, user, webhookBasePath);
    let instance: Instance;
    try {
      instance = new definition.instance(context);
    } catch (error) {
      throw new RpcError(ErrorCodes.PluginError, errorMessage(error, 'creating the instance failed'));
    }
    instances.set(instanceId, { id: instanceId, instance, context, enabled: false, lifecycle: undefined });
    return {};
  }

  async function destroyInstance(record: InstanceRecord): Promise<unknown> {
    // Gone at once, so calls racing the destroy get UnknownInstance rather than a half-stopped instance.
    instances.delete(record.id);
    if (record.enabled && record.instance.disable) {
      const call = lifetimeCall(record.context);
      await runPluginCode('disable', () => record.instance.disable!(call)).catch((error: RpcError) =>
        log('warn', `disable during destroy failed: ${error.message}`, undefined, record.id),
      );
    }
    record.context.abort(new RpcError(ErrorCodes.UnknownInstance, 'the instance was destroyed'));
    return {};
  }

  async function validateAndSetConfig(instance: Instance, text: string, parsedByHost: unknown, call: CallContext): Promise<unknown> {
    // 1.1: the host parsed it already (YAML 1.2 core schema, spec §7.6); a 1.0 host sends only the text.
    let value: unknown = parsedByHost;
    if (value === undefined) {
      try {
        value = parseConfigYaml(text);
      } catch (error) {
        throw new RpcError(ErrorCodes.InvalidConfig, `config is not valid YAML: ${firstLine(errorMessage(error, 'syntax error'))}`);
      }
    }
    const defaults = await runPluginCode('defaultConfig', () => instance.defaultConfig!(call));
    let merged: unknown;
    try {
      merged = mergeConfig(typeof defaults === 'string' ? parseConfigYaml(defaults) : defaults, value);
    } catch (error) {
      throw new RpcError(ErrorCodes.InvalidConfig, errorMessage(error, 'config does not fit the default config'));
    }
    await runPluginCode('validateAndSetConfig', () => instance.validateAndSetConfig!(merged, call), ErrorCodes.InvalidConfig);
    return {};
  }

  /**
   * Shutdown, in order:
   * 1. `disable()` every enabled instance, where plugins stop their background work while host
   *    calls still work (a poller can still record what it already sent: no repeat after restart);
   * 2. abort every `ctx.signal` and wait for running handlers to settle;
   * both within SHUTDOWN_GRACE_MS, so the answer comes before the host gives up waiting.
   */
  async function shutdown(): Promise<unknown> {
    state = 'shuttingDown';
    shutdownReceived = true;
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    const disabling = [...instances.values()].map((record) =>
      serially(record, async () => {
        if (!record.enabled) return;
        record.enabled = false;
        if (!record.instance.disable) return;
        const call = lifetimeCall(record.context);
        await runPluginCode('disable', () => record.instance.disable!(call)).catch((error: RpcError) =>
          log('warn', `disable during shutdown failed: ${error.message}`, undefined, record.id),
        );
      }),
    );
    await within(deadline - Date.now(), Promise.allSettled(disabling));
    stopInstances('the plugin is shutting down');
    await within(deadline - Date.now(), Promise.allSettled([...inFlight]));
    return {};
  }

  function stopInstances(reason: string): void {
    for (const record of instances.values()) record.context.abort(new RpcError(ErrorCodes.ShuttingDown, reason));
  }

  let ending: Promise<void> | undefined;
  function end(code: number): Promise<void> {
    ending ??= (async () => {
      state = 'done';
      stopInstances('the plugin is exiting');
      await peer.flush();
      peer.close();
      // In-process the output is a stream of our own: ending it is what a process exit does to stdout.
      if (options.output !== process.stdout && !options.output.writableEnded) options.output.end();
      finish(code);
    })();
    return ending;
  }

  /** What every instance's ctx calls back into; one for the session. */
  const contextHost: ContextHost = {
    log,
    requireCapability,
    speaks: (since) => versionAtLeast(protocolVersion, since),
    requireVersion(since, what) {
      if (!versionAtLeast(protocolVersion, since)) {
        throw new RpcError(ErrorCodes.MethodNotFound, `${what} needs protocol ${since}; this host agreed on ${protocolVersion ?? 'none yet'} (upgrade the server)`);
      }
    },
    async call<D extends RequestDefinition>(def: D, instanceId: string, params: Record<string, unknown>): Promise<ResultOf<D>> {
      requireCapability(def.capability as 'messenger' | 'storager', `ctx.${def.method}`);
      // Deadline only, no cancellation by ctx.signal: a write the host may already have done must
      // not look failed to the plugin (it would repeat the work after a restart).
      const result = await peer.request(def.method, { instanceId, ...params }, { timeoutMs: def.defaultTimeoutMs });
      const parsed = def.result.safeParse(result);
      if (!parsed.success) throw new RpcError(ErrorCodes.InternalError, `the host answered ${def.method} with an invalid result: ${parsed.error.issues[0]?.message}`);
      return parsed.data as ResultOf<D>;
    },
  };

  function requireCapability(capability: 'messenger' | 'storager', what: string): void {
    if (!capabilities.has(capability)) throw new Error(`${what} needs uses: ['${capability}'] in definePlugin`);
  }

  return { done };
}

/** Resolves when `promise` settles or after `ms`, whichever is first. */
async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function callContext(request: IncomingRequest, instance: KitContext): CallContext {
  let signal: AbortSignal | undefined;
  // Built on first use: most handlers never look at it, and each signal costs an AbortController and listeners.
  return {
    get signal() {
      return (signal ??= AbortSignal.any([request.signal, instance.signal]));
    },
  };
}

/** The CallContext of a call the kit makes itself (onMessage, disable at destroy or shutdown): the instance's lifetime. */
function lifetimeCall(instance: KitContext): CallContext {
  return {
    get signal() {
      return instance.signal;
    },
  };
}

/** The last YAML text parsed by parseConfigYaml and its value (only a tree of JSON values, see there). */
let lastYaml: { text: string; value: unknown } | undefined;

/**
 * `parseYaml(text)`, remembering the last text: at start the host configures every instance, and
 * most users keep the same (default) config text. Parsing it 10,000 times makes ~30 MB of garbage
 * that a plugin process's RSS keeps (issue 4). Each caller gets its own copy of the value, so a
 * plugin that keeps or changes it affects no other instance. Values other than plain JSON trees
 * (YAML 1.1 dates, sets, binary) are not remembered, so structuredClone never changes a type.
 */
function parseConfigYaml(text: string): unknown {
  if (lastYaml?.text === text) return structuredClone(lastYaml.value);
  const value: unknown = parseYaml(text);
  if (isJsonTree(value)) lastYaml = { text, value: structuredClone(value) };
  return value;
}

function isJsonTree(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return true;
  if (Array.isArray(value)) return value.every(isJsonTree);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.entries(value).every(([key, item]) => key !== '__proto__' && isJsonTree(item));
}

function errorMessage(error: unknown, fallback: string): string {
  if (error instanceof Error && error.message) return error.message;
  if (typeof error === 'string' && error) return error;
  return fallback;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

/**
 * Keeps V8's young generation at the size it has once the plugin is loaded. V8 doubles it (up to
 * 2 × 16 MB in Node 20) whenever much of what was allocated survives, and a plugin's start is
 * exactly that: the host creates, configures and enables one instance per user in a burst, and
 * every instance survives. The grown space stays resident: ~24 MB of each plugin process's RSS
 * at 10,000 users (issue 4; bench/README.md, "Plugin host"). A plugin mostly waits for the host,
 * so the more frequent scavenges cost little (the webhook relay bench did not move).
 * `--semi-space-growth-factor` is read at each growth, so setting it now takes effect (unlike
 * `--max-semi-space-size`, fixed when the heap is made). A plugin started with a semi-space flag
 * of its own (on the command line or in NODE_OPTIONS) keeps it.
 */
function keepYoungGenerationSize(env: Readonly<Record<string, string | undefined>>): void {
  const own = [...process.execArgv, env.NODE_OPTIONS ?? ''].some((arg) => /semi[-_]space/.test(arg));
  if (!own) setFlagsFromString('--semi-space-growth-factor=1');
}

/** What runPlugin reads from the process; tests pass their own. */
export interface RunOptions {
  /** Defaults to process.argv.slice(2). */
  argv?: readonly string[];
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The entry point of a plugin executable:
 * 1. `--help` / `--info` print and exit 0;
 * 2. started by hand (stdin is a terminal, or no `FLOW_PLUGIN_PROTOCOL` from a host) it prints
 *    what it is and how to install it, and exits 1; `--stdio` serves anyway;
 * 3. otherwise it keeps stdout for frames (console and stray writes go to stderr), logs crashes
 *    of plugin code instead of dying, serves the protocol on stdin/stdout, and exits when the
 *    host says so, closes stdin, or dies.
 */
export function runPlugin(definition: PluginDefinition, options: RunOptions = {}): void {
  const argv = options.argv ?? process.argv.slice(2);
  const env = options.env ?? process.env;
  const self = executableName();
  const unknown = argv.filter((arg) => !['--help', '-h', '--info', '--stdio'].includes(arg));
  if (unknown.length > 0) {
    process.stderr.write(`${self}: unknown option ${unknown[0]}\n\n${usage(definition, self)}`);
    process.exitCode = 2;
    return;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    writeStdout(usage(definition, self));
    return;
  }
  if (argv.includes('--info')) {
    // One line (spec §3), so `--info | jq` and a host's pre-flight check read it the same way.
    writeStdout(`${JSON.stringify({ info: definition.info, capabilities: definition.capabilities, protocolVersions: SUPPORTED_PROTOCOL_VERSIONS })}\n`);
    return;
  }
  if (!argv.includes('--stdio') && (process.stdin.isTTY || env[LAUNCH_ENV] === undefined)) {
    process.stderr.write(banner(definition, self));
    process.exitCode = 1;
    return;
  }

  guardStdout();
  keepYoungGenerationSize(env);
  const server = servePlugin(definition, { input: process.stdin, output: process.stdout, write: writeStdout });
  process.on('uncaughtException', (error) => writeLogLine(process.stderr, 'error', `uncaught exception in plugin code (still serving): ${error.stack ?? error.message}`));
  process.on('unhandledRejection', (reason) =>
    writeLogLine(process.stderr, 'error', `unhandled promise rejection in plugin code (still serving): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`),
  );
  // Ctrl-C in the server's terminal reaches the whole process group: leave stopping to the server's
  // shutdown (go-plugin does the same); stdin EOF still ends the plugin if the server dies.
  if (env[LAUNCH_ENV] !== undefined) process.on('SIGINT', () => writeLogLine(process.stderr, 'debug', 'ignored SIGINT: the host stops plugins with shutdown'));
  // A host killed with SIGKILL may leave stdin open through an inheriting grandchild; re-parenting is the sure sign.
  const watchdog = setInterval(() => {
    if (process.ppid !== launchParentPid) {
      writeLogLine(process.stderr, 'error', 'the host process is gone; exiting');
      process.exit(1);
    }
  }, 2_000);
  watchdog.unref();
  void server.done.then((code) => {
    clearInterval(watchdog);
    // stderr to a pipe is asynchronous: exit once it has drained, so the last log lines survive.
    process.stderr.write('', () => process.exit(code));
  });
}
