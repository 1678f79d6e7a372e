import { ErrorCodes, Exit, Initialized, Ping, Shutdown, isCapability, type Capability, type NotificationDefinition, type ParamsOf, type PluginInfo, type RequestDefinition, type ResultOf } from '@flow/protocol';
import type { Logger } from '../log.js';
import { pluginCallError, type CancelSignal, type PluginCallError, type PluginConnection } from './connection.js';
import { adoptConfigSchema, type CompiledConfigSchema } from './config-schema.js';
import { connect } from './connect.js';
import { crashEnd, exitReason } from './crash-report.js';
import type { DiscoveredPlugin } from './discovery.js';
import { pluginEnv } from './env.js';
import { handshake, protocolRangeProblem } from './handshake.js';
import { Liveness } from './liveness.js';
import type { LogBudget } from './log-budget.js';
import type { PidFile } from './orphans.js';
import { PluginProcess, type ProcessHandle, type Spawner } from './process.js';
import { Redactor } from './redactor.js';
import type { SessionDeps as Deps, SessionEnd, SessionPhase, InstanceState, SessionPorts as Ports } from './session-contract.js';
import { DELIBERATE_REFUSAL } from './session-contract.js';
import type { SessionSettings } from './settings.js';
import { missedPingReason, type StdinBacklog } from './stdin-backlog.js';

export type { InstanceState, SessionEnd, SessionPhase } from './session-contract.js';
export type SessionPorts = Ports<PluginSession>;
export type SessionDeps = Deps<PluginSession>;

/**
 * One launch of a plugin: its process, connection, handshake result and live instances. It is
 * never restarted: every way it ends (crash, stop, incompatible, refused) ends all of it at
 * once, and `ended` says how; the supervisor then decides whether a new session follows
 * (hashicorp/go-plugin's Client is the model: it "cannot be started again"). Events of its
 * process can only ever reach this session, so nothing needs a generation check.
 */
export class PluginSession {
  readonly plugin: DiscoveredPlugin;
  readonly log: Logger;
  /** The instances created on this process, by instance id (the plugin conf id). */
  readonly instances = new Map<string, InstanceState>();
  readonly redactor: Redactor;
  readonly logBudget: LogBudget;
  phase: SessionPhase = 'handshaking';
  /** Set once, the moment the session starts to end, with why (before its process is gone). */
  ending: { kind: SessionEnd['kind']; reason?: string } | undefined;
  /** The handshake's answer; undefined until then. */
  info: PluginInfo | undefined;
  capabilities: ReadonlySet<Capability> = new Set();
  protocolVersion: string | undefined;
  /** The plugin's config schema (1.1), compiled at the handshake; undefined when it declares none. */
  configSchema: CompiledConfigSchema | undefined;
  /** The plugin's secret config keys, from the first `config/default` answer of this process. */
  secretKeys: string[] | undefined;
  /** Resolves once, when the process is gone (or never started). */
  readonly ended: Promise<SessionEnd>;
  /** Settles when the handshake's claim is done or the session ended before it (host.ts orders claims by it). */
  readonly claimed: Promise<void>;
  /** Settles when the session runs or has ended; what the supervisor's start() waits for. */
  settled: Promise<void> = Promise.resolve();

  private readonly settings: SessionSettings;
  private readonly ports: SessionPorts;
  private readonly pids: PidFile;
  private readonly spawnProcess: Spawner;
  private proc: ProcessHandle | undefined;
  private conn: PluginConnection | undefined;
  private backlog: StdinBacklog | undefined;
  private spawned: Promise<void> = Promise.resolve();
  private readonly liveness: Liveness;
  private finish: (end: SessionEnd) => void = () => undefined;
  private claimDone: () => void = () => undefined;

  private constructor(deps: SessionDeps) {
    this.plugin = deps.plugin;
    this.settings = deps.settings;
    this.ports = deps.ports;
    this.pids = deps.pids;
    this.log = deps.log;
    this.logBudget = deps.logBudget;
    this.spawnProcess = deps.spawn ?? PluginProcess.spawn;
    this.redactor = new Redactor(deps.tokens);
    const pingMs = this.settings.timeoutFor(Ping);
    this.liveness = new Liveness(this.settings.pingIntervalMs, () => this.call(Ping, {}), () => this.crash(missedPingReason(this.backlog, pingMs)));
    this.ended = new Promise((resolve) => (this.finish = resolve));
    this.claimed = new Promise((resolve) => (this.claimDone = resolve));
  }

  /** Launches the plugin; the session runs on its own from here. */
  static start(deps: SessionDeps): PluginSession {
    const session = new PluginSession(deps);
    session.settled = session.run().finally(session.claimDone);
    return session;
  }

  get name(): string {
    return this.info?.name ?? this.plugin.name;
  }

  /** Whether calls can be sent now (running, or bringing up instances after the handshake). */
  get connected(): boolean {
    return this.conn !== undefined && !this.conn.closed;
  }

  get pid(): number | undefined {
    return this.proc?.running ? this.proc.pid : undefined;
  }

  get startedAt(): number | undefined {
    return this.proc?.running ? this.proc.startedAt : undefined;
  }

  /** The last stderr lines of this process, secrets masked. */
  stderrTail(n?: number): string[] {
    return this.proc?.stderr.tail(n) ?? [];
  }

  /** Sends a request to the plugin with its deadline; fails fast when it cannot be sent. */
  call<D extends RequestDefinition>(def: D, params: ParamsOf<D>, opts: { timeoutMs?: number; signal?: CancelSignal } = {}): Promise<ResultOf<D>> {
    const conn = this.conn;
    if (!conn || conn.closed) return Promise.reject(this.ports.notRunning());
    const refused = this.checkBacklog();
    if (refused) return Promise.reject(refused);
    if (def.capability && !this.capabilities.has(def.capability)) {
      return Promise.reject(pluginCallError('FLOW_ERR_PLUGIN_REJECTED', `the plugin does not support ${def.capability}`, ErrorCodes.NotSupported));
    }
    return conn.request(def, params, { timeoutMs: opts.timeoutMs ?? this.settings.timeoutFor(def), signal: opts.signal });
  }

  notify<D extends NotificationDefinition>(def: D, params: ParamsOf<D>): void {
    if (this.checkBacklog()) return;
    this.conn?.notify(def, params);
  }

  /** See StdinBacklog.largeAnswer. */
  largeAnswer<T>(work: () => Promise<T>): Promise<T> {
    return this.backlog ? this.backlog.largeAnswer(work) : work();
  }

  /** The plugin stopped answering (seen by a caller): kill it; the session ends as crashed. Safe to call twice. */
  hung(reason: string): void {
    if (!this.connected) return;
    this.log.error(`plugin ${reason}; restarting it`);
    this.crash(reason);
  }

  /**
   * The stop sequence, each step bounded by `stopStepMs`:
   * 1. `shutdown` request (the plugin stops timers and answers);
   * 2. `exit` notification;
   * 3. stdin close, 4. SIGTERM, 5. SIGKILL of the process group (process.ts).
   * Pending calls fail with FLOW_ERR_PLUGIN_CLOSED. Safe to call twice, and at any point of the session.
   */
  async stop(): Promise<void> {
    if (this.ending) {
      await this.ended;
      return;
    }
    this.ending = { kind: 'stopped' };
    this.liveness.stop();
    await this.spawned;
    const { proc, conn } = this;
    if (conn && !conn.closed && proc?.running) {
      await conn.request(Shutdown, {}, { timeoutMs: this.settings.stopStepMs }).catch(() => undefined);
      conn.notify(Exit, {});
    }
    // close() flushes the writer before it ends stdin, so `exit` reaches the plugin.
    conn?.close('the plugin was stopped');
    this.instances.clear();
    if (proc) await proc.terminate(this.settings.stopStepMs);
    this.finish({ kind: 'stopped' });
  }

  /**
   * The launch:
   * 1. check the manifest's protocol range before spawning (incompatible: no process at all);
   * 2. spawn with the allowlisted environment, record the pid;
   * 3. `initialize` within the handshake deadline; no answer, an exit or garbage before it is a crash
   *    reported with the exit status, a diagnosis of the executable and the last stderr lines;
   * 4. check the negotiated version (incompatible names both sides) and claim the module path;
   * 5. `initialized`, then the host brings up the instances; then `running` and the liveness ping.
   */
  private async run(): Promise<void> {
    const rangeProblem = protocolRangeProblem(this.plugin);
    if (rangeProblem) {
      this.ending = { kind: 'incompatible', reason: rangeProblem };
      this.finish({ kind: 'incompatible', reason: rangeProblem });
      return;
    }
    this.spawned = this.spawn();
    await this.spawned;
    const conn = this.conn;
    if (!conn || this.ending) return;
    const outcome = await handshake(conn, this.proc!, this.settings, () => this.ending !== undefined);
    if (outcome.kind === 'incompatible') {
      this.info = outcome.info;
      await this.giveUp('incompatible', outcome.reason);
      return;
    }
    if (outcome.kind === 'failed') {
      this.crash(outcome.reason);
      await this.ended;
      return;
    }
    if (outcome.kind === 'gone' || this.ending) return;
    const { result } = outcome;
    this.info = result.info;
    this.protocolVersion = result.protocolVersion;
    this.capabilities = new Set(result.capabilities.filter(isCapability));
    try {
      this.configSchema = adoptConfigSchema(result, this.capabilities);
    } catch (err) {
      // A broken schema is the plugin's bug: reported, not started half-way, no restart loop.
      await this.giveUp('refused', (err as Error).message);
      return;
    }
    const refused = await this.ports.claim(this);
    this.claimDone();
    if (this.ending) return;
    if (refused) {
      if (refused.startsWith(DELIBERATE_REFUSAL)) this.log.debug(refused);
      else this.log.error(refused);
      await this.giveUp('refused', refused);
      return;
    }
    conn.notify(Initialized, {});
    this.log.info({ pid: this.proc?.pid, modulePath: result.info.modulePath, version: result.info.version, protocol: result.protocolVersion }, 'plugin started');
    this.phase = 'bringing-up';
    try {
      await this.ports.bringUp(this);
    } catch (err) {
      if (this.ending) return;
      this.log.error({ err }, 'bringing up the plugin instances failed');
    }
    if (this.ending || conn.closed) return;
    this.phase = 'running';
    this.liveness.start();
  }

  /** Spawns the process and wires its connection; a stop during the spawn leaves only the process (stop() ends it). */
  private async spawn(): Promise<void> {
    const { plugin, settings } = this;
    const proc = await this.spawnProcess(
      { command: plugin.command, args: plugin.args, cwd: plugin.cwd, env: pluginEnv(settings.serverEnv, plugin.env, this.pids.newRun()) },
      { log: this.log, stderrLines: settings.stderrLines, redact: this.redactor.redact },
    );
    this.proc = proc;
    if (proc.pid !== undefined) this.pids.add(proc.pid);
    void proc.exited.then((exit) => {
      if (proc.pid !== undefined) this.pids.remove(proc.pid);
      this.crash(exitReason(exit, this.info !== undefined), false);
    });
    if (this.ending) return;
    const { conn, backlog } = connect(proc, { plugin, settings, log: this.log, redactor: this.redactor }, {
      request: (method, params) => this.ports.hostRequest(this, method, params),
      notification: (method, params) => this.ports.hostNotification(this, method, params),
      broken: (reason) => this.crash(reason),
      ending: () => this.ending !== undefined,
    });
    this.conn = conn;
    this.backlog = backlog;
  }

  /**
   * Past the stdin bound (StdinBacklog) a call is refused (503); a plugin that stays over it
   * longer than the ping deadline is hung: killed, which frees the backlog.
   */
  private checkBacklog(): PluginCallError | undefined {
    const problem = this.backlog?.problem();
    if (!problem) return undefined;
    if (problem.state === 'refused') return pluginCallError('FLOW_ERR_PLUGIN_NOT_RUNNING', `plugin ${this.name} ${problem.message}`, ErrorCodes.TransportClosed);
    this.hung(problem.message);
    return this.ports.notRunning();
  }

  /**
   * A crash (exit, garbage on stdout, failed handshake, missed ping, unread stdin): every
   * pending call fails at once and the instances are gone; once the process is gone too the
   * session ends with the reason, a diagnosis of the executable when it never handshook, and
   * its last stderr lines. `kill`: the process may still run (garbage, missed ping).
   */
  private crash(reason: string, kill = true): void {
    if (this.ending) return;
    this.ending = { kind: 'crashed', reason };
    this.liveness.stop();
    if (kill) this.proc?.signal('SIGKILL');
    this.conn?.close(`the plugin crashed: ${reason}`);
    this.instances.clear();
    const proc = this.proc;
    void Promise.resolve(proc?.terminate(this.settings.stopStepMs))
      .then(() => crashEnd(this.plugin, proc, this.info !== undefined, reason))
      .then((end) => this.finish(end));
  }

  /** Ends the session for good (incompatible, duplicate): the supervisor starts none until an admin or a new file asks. */
  private async giveUp(kind: 'incompatible' | 'refused', reason: string): Promise<void> {
    if (this.ending) return;
    this.ending = { kind, reason };
    this.conn?.notify(Exit, {});
    this.conn?.close(reason);
    this.instances.clear();
    // The end is reported once the process is gone: "failed" never shows a live pid.
    await this.proc?.terminate(this.settings.stopStepMs);
    this.finish({ kind, reason });
  }
}
