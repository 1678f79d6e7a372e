import {
  ErrorCodes,
  Exit,
  FramingError,
  createStreamTransport,
  Initialize,
  Initialized,
  Ping,
  SUPPORTED_PROTOCOL_VERSIONS,
  Shutdown,
  isCapability,
  negotiateVersion,
  type Capability,
  type IncompatibleVersionData,
  type NotificationDefinition,
  type ParamsOf,
  type PluginInfo,
  type RequestDefinition,
  type ResultOf,
} from '@flow/protocol';
import { once } from 'node:events';
import type { Logger } from '../log.js';
import { PluginCallError, PluginConnection, isPluginCallError, type CancelSignal } from './connection.js';
import { SessionRecorder } from './recorder.js';
import { checkProtocolRange, diagnoseExecutable, type DiscoveredPlugin } from './discovery.js';
import { pluginEnv } from './env.js';
import { adoptConfigSchema, type CompiledConfigSchema } from './config-schema.js';
import type { PidFile } from './orphans.js';
import { LogBudget } from './log-budget.js';
import { PluginProcess } from './process.js';
import type { PluginStatus } from '../model/plugin.js';

/** Tunables, from the `plugins.*` config keys. */
export interface SupervisorSettings {
  handshakeTimeoutMs: number;
  /** Deadline of a host → plugin request; the protocol's per-method default unless configured. */
  timeoutFor(def: RequestDefinition): number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** This many crashes within `crashLoopWindowMs` mark the plugin failed. */
  crashLoopCount: number;
  crashLoopWindowMs: number;
  /** Bound of each step of the stop sequence. */
  stopStepMs: number;
  /** 0 disables the liveness ping. */
  pingIntervalMs: number;
  stderrLines: number;
  limits: { maxFrameBytes: number; storageQuotaBytes: number; webhookBodyBytes: number };
  hostVersion: string;
  serverEnv: NodeJS.ProcessEnv;
  /** `recording.dir`: absolute folder for session transcripts (recorder.ts); "" is off. */
  recordingDir?: string;
}

/** What the supervisor needs from the host around it. */
export interface SupervisorHooks {
  /** After a successful handshake: undefined to go on, or why this plugin may not run (duplicate module path). */
  claim(sup: PluginSupervisor): Promise<string | undefined>;
  /** Creates, configures and enables the instances on the fresh process. */
  connected(sup: PluginSupervisor): Promise<void>;
  /** The process is gone (crash or stop); its instances no longer exist. */
  disconnected(sup: PluginSupervisor): void;
  hostRequest(sup: PluginSupervisor, method: string, params: unknown): Promise<unknown>;
  hostNotification(sup: PluginSupervisor, method: string, params: unknown): void;
}

const STDERR_IN_REASON = 5;
/** How long a failed handshake waits for the process's exit before it reports the failure itself. */
const EXIT_GRACE_MS = 200;
/** Plugin → host calls with possibly large answers running at once, per plugin (largeAnswer). */
const LARGE_ANSWER_SLOTS = 4;

/** What the host knows about one instance on the current process. */
export interface InstanceState {
  userId: number;
  /** `instance/enable` succeeded on this process (and no disable since). */
  enabled: boolean;
}

/**
 * One plugin executable: its process, connection and state machine. Instances of every
 * user live inside the one process; this class only tracks which exist on the current
 * process (`instances`), the host decides what to create.
 */
export class PluginSupervisor {
  status: PluginStatus = 'stopped';
  /**
   * Why the plugin is failed, incompatible or restarting. Every user sees it, so it never holds
   * stderr: one process logs for all its users' instances.
   */
  statusReason: string | undefined;
  /** `statusReason` with the last stderr lines before the crash, for admins. */
  statusDetail: string | undefined;
  lastError: string | undefined;
  info: PluginInfo | undefined;
  capabilities = new Set<Capability>();
  protocolVersion: string | undefined;
  /** The plugin's config schema (1.1), compiled at the handshake; undefined when it declares none. */
  configSchema: CompiledConfigSchema | undefined;
  /** Restarts after a crash since the server started. */
  restarts = 0;
  /** The instances created on the current process, by instance id (the plugin conf id). */
  readonly instances = new Map<string, InstanceState>();
  readonly log: Logger;
  /** Bounds the plugin's `log/write` lines in the server log (its stderr has its own, per process). */
  readonly logBudget = new LogBudget();

  private proc: PluginProcess | undefined;
  private conn: PluginConnection | undefined;
  /** Bumped by every launch and stop: events of an older process are ignored. */
  private generation = 0;
  private crashes: number[] = [];
  private backoffTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private secrets = new Map<string, string[]>();
  private launching: Promise<void> | undefined;
  private handshakeDone: () => void = () => undefined;
  /**
   * Settles when the current launch has claimed its module path or ended before that; the
   * host orders claims of plugins started together by it (host.ts `claim`).
   */
  handshake: Promise<void> = Promise.resolve();

  constructor(
    public plugin: DiscoveredPlugin,
    private readonly settings: SupervisorSettings,
    private readonly hooks: SupervisorHooks,
    private readonly pids: PidFile,
    logger: Logger,
  ) {
    this.log = logger.child({ plugin: plugin.name });
  }

  get modulePath(): string | undefined {
    return this.info?.modulePath;
  }

  get pid(): number | undefined {
    return this.proc?.running ? this.proc.pid : undefined;
  }

  get startedAt(): number | undefined {
    return this.proc?.running ? this.proc.startedAt : undefined;
  }

  /** The last stderr lines of the current (or last) process, secrets masked. */
  stderrTail(n?: number): string[] {
    return this.proc?.stderr.tail(n) ?? [];
  }

  /** Whether calls can be sent now (running, or bringing up instances after the handshake). */
  get connected(): boolean {
    return this.conn !== undefined && !this.conn.closed;
  }

  /**
   * Starts the plugin; resolves when this first attempt is running or has failed (a crash
   * schedules a restart in the background). Safe to call twice.
   */
  start(): Promise<void> {
    if (this.status === 'running' || this.status === 'starting' || this.status === 'restarting') return this.launching ?? Promise.resolve();
    this.crashes = [];
    return this.launch();
  }

  /**
   * The stop sequence, each step bounded by `stopStepMs`:
   * 1. `shutdown` request (the plugin stops timers and answers);
   * 2. `exit` notification;
   * 3. stdin close, 4. SIGTERM, 5. SIGKILL of the process group (process.ts).
   * Pending calls fail with FLOW_ERR_PLUGIN_CLOSED. Safe to call twice.
   */
  async stop(): Promise<void> {
    this.generation++;
    clearTimeout(this.backoffTimer);
    this.stopPing();
    const proc = this.proc;
    const conn = this.conn;
    if (this.status !== 'failed' && this.status !== 'incompatible') this.status = 'stopped';
    if (conn && !conn.closed && proc?.running) {
      await conn.request(Shutdown, {}, { timeoutMs: this.settings.stopStepMs }).catch(() => undefined);
      conn.notify(Exit, {});
    }
    // close() flushes the writer before it ends stdin, so `exit` reaches the plugin.
    conn?.close('the plugin was stopped');
    if (proc) {
      await proc.terminate(this.settings.stopStepMs);
      if (proc.pid !== undefined) this.pids.remove(proc.pid);
    }
    this.dropInstances();
  }

  /** Stops and starts again with a clean crash history (admin restart, file replaced). */
  async restart(plugin?: DiscoveredPlugin): Promise<void> {
    await this.stop();
    if (plugin) this.plugin = plugin;
    this.status = 'stopped';
    this.setReason(undefined);
    this.crashes = [];
    await this.launch();
  }

  /** Sends a request to the plugin with its deadline; fails fast when the plugin is not connected. */
  call<D extends RequestDefinition>(def: D, params: ParamsOf<D>, opts: { timeoutMs?: number; signal?: CancelSignal } = {}): Promise<ResultOf<D>> {
    const conn = this.conn;
    if (!conn || conn.closed) return Promise.reject(this.notRunning());
    const refused = this.backlogged();
    if (refused) return Promise.reject(refused);
    if (def.capability && !this.capabilities.has(def.capability)) {
      return Promise.reject(new PluginCallError('FLOW_ERR_PLUGIN_REJECTED', `the plugin does not support ${def.capability}`, ErrorCodes.NotSupported));
    }
    return conn.request(def, params, { timeoutMs: opts.timeoutMs ?? this.settings.timeoutFor(def), signal: opts.signal });
  }

  notify<D extends NotificationDefinition>(def: D, params: ParamsOf<D>): void {
    if (this.backlogged()) return;
    this.conn?.notify(def, params);
  }

  /**
   * Writes to a plugin that does not read its stdin queue up in the host's memory (Node's
   * stream buffer has no bound). Past twice the frame limit nothing more is queued: calls
   * fail at once (503) and notifications are dropped. A plugin that stays over the bound for
   * longer than the ping deadline is hung: it is killed and restarted, freeing the backlog;
   * a busy one that catches up is left alone. Returns the error for the refused call, if any.
   */
  private backlogged(): PluginCallError | undefined {
    const proc = this.proc;
    const backlog = proc?.running ? proc.stdin.writableLength : 0;
    if (backlog <= 2 * this.settings.limits.maxFrameBytes) {
      this.backlogSince = undefined;
      return undefined;
    }
    const name = this.info?.name ?? this.plugin.name;
    this.backlogSince ??= Date.now();
    if (Date.now() - this.backlogSince <= this.settings.timeoutFor(Ping)) {
      return new PluginCallError('FLOW_ERR_PLUGIN_NOT_RUNNING', `plugin ${name} is not reading its input (${backlog} bytes waiting); try again shortly`, ErrorCodes.TransportClosed);
    }
    const reason = `stopped reading its stdin (${backlog} bytes waiting for over ${this.settings.timeoutFor(Ping)} ms)`;
    this.log.error(`plugin ${reason}; restarting it`);
    proc!.signal('SIGKILL');
    void this.crashed(this.generation, reason);
    return this.notRunning();
  }
  private backlogSince: number | undefined;

  /**
   * Runs a plugin → host call whose answer can be large (storage/load, kv/get, kv/list: up
   * to the storage quota each): at most LARGE_ANSWER_SLOTS at a time per plugin, each only
   * once the plugin has read what it was sent (stdin backlog under twice the frame limit).
   * Without it, a plugin asking for its 4 MB blob a thousand times without reading made the
   * host hold gigabytes of answers (100 asks of 3 MB: +943 MB RSS). Waiting callers hold only
   * their params; the ping (or the backlog check of calls) restarts a plugin that never reads.
   */
  async largeAnswer<T>(work: () => Promise<T>): Promise<T> {
    while (this.largeSlots === 0) await new Promise<void>((resolve) => this.largeWaiters.push(resolve));
    this.largeSlots--;
    try {
      const proc = this.proc;
      while (proc?.running && proc.stdin.writableLength > 2 * this.settings.limits.maxFrameBytes) {
        await Promise.race([once(proc.stdin, 'drain').catch(() => undefined), proc.exited]);
      }
      return await work();
    } finally {
      this.largeSlots++;
      this.largeWaiters.shift()?.();
    }
  }
  private largeSlots = LARGE_ANSWER_SLOTS;
  private readonly largeWaiters: (() => void)[] = [];

  /** The plugin stopped answering (seen by a caller): kill it and apply the crash policy. Safe to call twice. */
  hung(reason: string): void {
    if (!this.connected) return;
    this.log.error(`plugin ${reason}; restarting it`);
    this.proc?.signal('SIGKILL');
    void this.crashed(this.generation, reason);
  }

  /** The error for a call made while the plugin cannot take it. */
  notRunning(): PluginCallError {
    const name = this.info?.name ?? this.plugin.name;
    const why = this.statusReason ? `: ${this.statusReason}` : '';
    return new PluginCallError('FLOW_ERR_PLUGIN_NOT_RUNNING', `plugin ${name} is ${this.status === 'stopped' ? 'not running' : this.status}${why}`, ErrorCodes.TransportClosed);
  }

  /** Config values of an instance that must never appear in logs (the plugin's `secretKeys`). */
  setSecrets(instanceId: string, values: string[]): void {
    const kept = values.filter((v) => v.length >= 4);
    if (kept.length === 0) this.secrets.delete(instanceId);
    else this.secrets.set(instanceId, kept);
  }

  /**
   * The webhook tokens this plugin was told (in `webhookBasePath`): masked wherever they
   * appear, not only after `/custom/`: a plugin may print the bare token or a URL-encoded
   * path. Kept across restarts (same tokens); safe to call twice.
   */
  addToken(token: string): void {
    this.tokens.add(token);
  }
  private readonly tokens = new Set<string>();

  /** Webhook tokens and secret config values, for the session recorder's redaction. */
  private *knownSecrets(): Iterable<[string, string]> {
    for (const token of this.tokens) yield [token, 'webhook token'];
    for (const values of this.secrets.values()) for (const value of values) yield [value, 'secret config value'];
  }

  /** Masks webhook tokens and secret config values in a line the plugin wrote. */
  redact = (line: string): string => {
    let out = line.replace(/(\/custom\/)[^/\s"']+/g, '$1[masked]');
    for (const t of this.tokens) if (out.includes(t)) out = out.split(t).join('[masked]');
    for (const values of this.secrets.values()) for (const v of values) if (out.includes(v)) out = out.split(v).join('[masked]');
    return out;
  };

  private launch(): Promise<void> {
    this.handshake = new Promise<void>((resolve) => (this.handshakeDone = resolve));
    const done = this.handshakeDone;
    const run = this.runOnce().finally(() => {
      done();
      if (this.launching === run) this.launching = undefined;
    });
    this.launching = run;
    return run;
  }

  /**
   * One launch attempt:
   * 1. check the manifest's protocol range before spawning (incompatible: no process at all);
   * 2. spawn with the allowlisted environment, record the pid;
   * 3. `initialize` within the handshake deadline; no answer, an exit or garbage before it is a crash
   *    reported with the exit status, a diagnosis of the executable and the last stderr lines;
   * 4. check the negotiated version (incompatible names both sides) and claim the module path;
   * 5. `initialized`, then the host brings up the instances; then `running` and the liveness ping.
   */
  private async runOnce(): Promise<void> {
    const generation = ++this.generation;
    this.status = 'starting';
    const rangeProblem = (() => {
      try {
        return checkProtocolRange(this.plugin.protocol);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    if (rangeProblem) {
      this.settle('incompatible', rangeProblem);
      return;
    }
    const proc = await PluginProcess.spawn(
      { command: this.plugin.command, args: this.plugin.args, cwd: this.plugin.cwd, env: pluginEnv(this.settings.serverEnv, this.plugin.env, this.pids.newRun()) },
      { log: this.log, stderrLines: this.settings.stderrLines, redact: this.redact },
    );
    if (generation !== this.generation) {
      await proc.terminate(this.settings.stopStepMs);
      return;
    }
    this.proc = proc;
    const log = proc.pid === undefined ? this.log : this.log.child({ pid: proc.pid });
    if (proc.pid !== undefined) this.pids.add(proc.pid);
    const recorder = SessionRecorder.open(this.settings.recordingDir ?? '', { name: this.plugin.name, command: [this.plugin.command, ...this.plugin.args], pid: proc.pid, knownSecrets: () => this.knownSecrets() }, log);
    const transport = createStreamTransport(proc.stdout, proc.stdin, { maxFrameBytes: this.settings.limits.maxFrameBytes });
    const { reader, writer } = recorder ? recorder.tap(transport, proc.stdin) : transport;
    if (recorder) void proc.exited.then((exit) => recorder.exit(exit.code, exit.signal));
    const conn = new PluginConnection(
      reader,
      writer,
      (method, params) => this.hooks.hostRequest(this, method, params),
      (method, params) => this.hooks.hostNotification(this, method, params),
      {
        pause: () => {
          log.warn('plugin has over 4096 requests to the host unanswered; reading its output is paused until they are served');
          proc.stdout.pause();
        },
        resume: () => proc.stdout.resume(),
      },
    );
    this.conn = conn;
    // stdout closed: normally the exit follows at once and reports the exit code; a plugin that
    // closed its stdout and kept running could never answer again, so it is treated as a crash.
    reader.onClose(() => {
      setTimeout(() => {
        if (generation !== this.generation || !proc.running) return;
        proc.signal('SIGKILL');
        void this.crashed(generation, 'closed its stdout but kept running');
      }, this.settings.stopStepMs).unref();
    });
    const badFrames = new LogBudget(10, 100);
    reader.onError((error) => {
      if (generation !== this.generation) return;
      if (error instanceof FramingError && error.code === ErrorCodes.FrameTooLarge) {
        log.warn({ reason: error.message }, 'plugin sent an oversized frame; skipped');
        const size = error.data as { frameBytes: number; limitBytes: number };
        if (!error.respond && error.id !== null) conn.oversizedAnswer(error.id, size.frameBytes, size.limitBytes);
        return;
      }
      // A well-framed frame with bad content (not JSON, not JSON-RPC, another charset): the
      // transport answered it and the stream is still in step, so spec 2.5 applies: keep serving.
      // Within a budget (a burst of 100, then 10/s): past it the plugin sends little else, and
      // each one costs a log line and an answer it may never read; it is restarted below.
      if (error instanceof FramingError && error.respond && badFrames.take(() => undefined)) {
        log.warn({ reason: this.redact(error.message) }, 'plugin sent an invalid frame; answered it with an error');
        return;
      }
      // stdout belongs to the protocol: anything else there means a stray print, and the
      // stream can no longer be trusted (hashicorp/go-plugin#164). Log the bytes and restart.
      // The excerpt is whatever the plugin printed: mask secrets in it like any plugin output.
      const what = this.redact(error.message);
      log.error(`plugin broke the protocol on stdout: ${what}; restarting it`);
      proc.signal('SIGKILL');
      void this.crashed(generation, `broke the protocol on stdout: ${what}`);
    });
    void proc.exited.then((exit) => {
      if (proc.pid !== undefined) this.pids.remove(proc.pid);
      if (generation !== this.generation) return;
      const how = exit.spawnError ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`);
      void this.crashed(generation, this.status === 'starting' && !this.info ? `${how} before the handshake` : `${how}`);
    });

    let result: ResultOf<typeof Initialize>;
    try {
      result = await conn.request(
        Initialize,
        { protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS], host: { name: 'flow', version: this.settings.hostVersion }, limits: this.settings.limits },
        { timeoutMs: this.settings.handshakeTimeoutMs },
      );
    } catch (err) {
      if (generation !== this.generation) return;
      if (isPluginCallError(err) && err.wireCode === ErrorCodes.IncompatibleVersion) {
        const data = err.data as Partial<IncompatibleVersionData> | undefined;
        const theirs = Array.isArray(data?.pluginVersions) ? data.pluginVersions.join(', ') : 'unknown';
        await this.giveUp(generation, 'incompatible', `protocol version mismatch: the plugin speaks ${theirs}, this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
        return;
      }
      if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_CLOSED') return; // the exit handler reports it
      // A plugin that dies at once fails the first write (EPIPE) before its exit is seen; its
      // exit status says more, and the exit handler reports it.
      if (await proc.waitExit(EXIT_GRACE_MS)) return;
      if (generation !== this.generation) return;
      const why = isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_TIMEOUT' ? `did not complete the handshake within ${this.settings.handshakeTimeoutMs} ms (plugins.handshaketimeoutms)` : `failed the handshake: ${(err as Error).message}`;
      proc.signal('SIGKILL');
      await this.crashed(generation, why);
      return;
    }
    if (generation !== this.generation) return;
    // Any version we speak: 1.0 from a 1.0 plugin to our 1.1 offer is fine (spec §4.3), a pick above the offer is not.
    const picked = negotiateVersion([result.protocolVersion]);
    if (!picked || picked !== result.protocolVersion) {
      this.info = result.info;
      await this.giveUp(generation, 'incompatible', `protocol version mismatch: the plugin picked ${result.protocolVersion}, this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
      return;
    }
    this.info = result.info;
    this.protocolVersion = result.protocolVersion;
    this.capabilities = new Set(result.capabilities.filter(isCapability));
    try {
      this.configSchema = adoptConfigSchema(result, this.capabilities);
    } catch (err) {
      // A broken schema is the plugin's bug: reported, not started half-way, no restart loop.
      await this.giveUp(generation, 'failed', (err as Error).message);
      return;
    }
    const refused = await this.hooks.claim(this);
    this.handshakeDone();
    if (generation !== this.generation) return;
    if (refused) {
      log.error(refused);
      await this.giveUp(generation, 'failed', refused);
      return;
    }
    conn.notify(Initialized, {});
    log.info({ modulePath: result.info.modulePath, version: result.info.version, protocol: result.protocolVersion }, 'plugin started');
    try {
      await this.hooks.connected(this);
    } catch (err) {
      if (generation !== this.generation) return;
      log.error({ err }, 'bringing up the plugin instances failed');
    }
    if (generation !== this.generation || conn.closed) return;
    this.status = 'running';
    this.setReason(undefined);
    this.schedulePing(generation);
  }

  /**
   * A crash (exit, garbage on stdout, failed handshake, missed ping):
   * 1. fail every pending call at once and forget the process's instances;
   * 2. if it crashed `crashLoopCount` times within `crashLoopWindowMs`, it is `failed` with the
   *    last stderr lines until an admin restart or a new file;
   * 3. otherwise wait min(backoffMax, base·2^(n-1)) scaled by a random 50–100 % (jitter, so
   *    plugins that died together do not come back in lockstep), then launch again.
   */
  private async crashed(generation: number, reason: string): Promise<void> {
    if (generation !== this.generation) return;
    const current = ++this.generation;
    this.stopPing();
    this.status = 'restarting';
    this.setReason(reason);
    this.conn?.close(`the plugin crashed: ${reason}`);
    this.dropInstances();
    const proc = this.proc;
    // Make sure it is gone (garbage and missed pings leave it running) before deciding what next.
    if (proc) await proc.terminate(this.settings.stopStepMs);
    if (current !== this.generation) return;
    let detail = reason;
    if (!this.info && proc) {
      const hint = this.plugin.kind === 'executable' ? await diagnoseExecutable(this.plugin.command) : undefined;
      if (current !== this.generation) return;
      if (hint) detail += `; ${hint}`;
    }
    const tail = proc?.stderr.tail(STDERR_IN_REASON) ?? [];
    const stderr = tail.length > 0 ? `; last stderr: ${tail.join(' | ')}` : '';
    this.lastError = detail + stderr;
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < this.settings.crashLoopWindowMs);
    this.crashes.push(now);
    if (this.crashes.length >= this.settings.crashLoopCount) {
      this.log.error({ reason: this.lastError }, `plugin crashed ${this.crashes.length} times within ${this.settings.crashLoopWindowMs} ms; giving up until an admin restarts it or its file changes`);
      this.status = 'failed';
      this.setReason(`crashed ${this.crashes.length} times within ${Math.round(this.settings.crashLoopWindowMs / 1000)} s: ${detail}`, stderr);
      return;
    }
    const exp = Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** (this.crashes.length - 1));
    const delay = Math.round(exp * (0.5 + Math.random() * 0.5));
    this.log.error({ reason: this.lastError, restartInMs: delay }, 'plugin crashed; restarting it');
    this.setReason(detail, stderr);
    const next = this.generation;
    this.backoffTimer = setTimeout(() => {
      if (next !== this.generation) return;
      this.restarts++;
      void this.launch();
    }, delay);
  }

  /** Ends the process for good (incompatible, duplicate): no restart until an admin or a new file asks. */
  private async giveUp(generation: number, status: 'failed' | 'incompatible', reason: string): Promise<void> {
    if (generation !== this.generation) return;
    this.generation++;
    this.conn?.notify(Exit, {});
    this.conn?.close(reason);
    this.dropInstances();
    // The status changes once the process is gone: "failed" never shows a live pid.
    await this.proc?.terminate(this.settings.stopStepMs);
    this.settle(status, reason);
  }

  private settle(status: 'failed' | 'incompatible', reason: string): void {
    this.status = status;
    this.setReason(reason);
    this.lastError = reason;
    this.log.error({ reason }, status === 'incompatible' ? 'plugin is incompatible' : 'plugin cannot run');
  }

  private setReason(reason: string | undefined, stderr = ''): void {
    this.statusReason = reason;
    this.statusDetail = reason === undefined ? undefined : reason + stderr;
  }

  private dropInstances(): void {
    const had = this.instances.size > 0;
    this.instances.clear();
    this.secrets.clear();
    if (had || this.info) this.hooks.disconnected(this);
  }

  private schedulePing(generation: number): void {
    if (this.settings.pingIntervalMs <= 0) return;
    this.pingTimer = setTimeout(async () => {
      if (generation !== this.generation) return;
      try {
        await this.call(Ping, {});
      } catch (err) {
        if (generation !== this.generation) return;
        if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_TIMEOUT') {
          this.proc?.signal('SIGKILL');
          await this.crashed(generation, `did not answer ping within ${this.settings.timeoutFor(Ping)} ms`);
          return;
        }
      }
      this.schedulePing(generation);
    }, this.settings.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }
}

