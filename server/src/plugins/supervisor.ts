import { ErrorCodes, type Capability, type PluginInfo } from '@flow/protocol';
import type { Logger } from '../log.js';
import type { PluginStatus } from '../model/plugin.js';
import { pluginCallError, type PluginCallError } from './connection.js';
import type { DiscoveredPlugin } from './discovery.js';
import { LogBudget } from './log-budget.js';
import type { SessionDeps, SessionEnd, SessionPhase, SessionPorts } from './session.js';
import { DELIBERATE_REFUSAL } from './session-contract.js';
import type { RestartPolicy } from './settings.js';

/** The part of a PluginSession the supervisor reads; unit tests hand it a fake. */
export interface SupervisedSession {
  readonly phase: SessionPhase;
  readonly ending: { kind: SessionEnd['kind']; reason?: string } | undefined;
  readonly ended: Promise<SessionEnd>;
  readonly settled: Promise<void>;
  readonly claimed: Promise<void>;
  readonly info: PluginInfo | undefined;
  readonly capabilities: ReadonlySet<Capability>;
  stderrTail(n?: number): string[];
  stop(): Promise<void>;
}

/** Starts one session: PluginSession.start in the server, a fake in unit tests. */
export type SessionLauncher<S extends SupervisedSession> = (deps: Pick<SessionDeps, 'plugin' | 'tokens' | 'logBudget' | 'log'> & { ports: Pick<SessionPorts, 'notRunning'> }) => S;

/** The clock and dice of the restart policy, injectable so tests decide when time passes. */
export interface SupervisorClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** In [0, 1): the jitter of the backoff. */
  random(): number;
}

const realClock: SupervisorClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: () => Math.random(),
};

/** The state between sessions: what the last one's end (or a stop) left. */
type IdleStatus = 'stopped' | 'restarting' | 'failed' | 'incompatible';

/**
 * One plugin entry of the plugins folder over time. It decides only when the next session
 * starts: at start, after a crash (backoff with jitter, unless the crash window is full), on
 * an admin restart or a new file; everything about one launch lives in its session. What it
 * keeps across sessions is the plugin's: its crash history, its restart count, its webhook
 * tokens, the module path and capabilities it last announced, and why it is not running.
 */
export class PluginSupervisor<S extends SupervisedSession = SupervisedSession> {
  /** The current session, from launch until its end is handled. */
  session: S | undefined;
  /** Restarts after a crash since the server started. */
  restarts = 0;
  lastError: string | undefined;
  readonly log: Logger;
  /** Webhook tokens the plugin was told: every session masks them (the same tokens every launch). */
  readonly tokens = new Set<string>();
  readonly logBudget = new LogBudget();

  private idle: IdleStatus = 'stopped';
  /** The handshake answer of the last session that got that far: names the plugin between sessions. */
  private last: S | undefined;
  /** The last session that ended, for its stderr lines (the admin endpoint shows them after a crash). */
  private previous: S | undefined;
  /** Why the plugin is failed, incompatible or restarting: every user sees it, so never stderr. */
  private reason: string | undefined;
  /** `reason` with the last stderr lines, for admins. */
  private detail: string | undefined;
  private crashes: number[] = [];
  private backoff: unknown;
  /** Whether a session should be running: false after stop(), so an ending session starts none. */
  private wanted = false;

  constructor(
    public plugin: DiscoveredPlugin,
    private readonly policy: RestartPolicy,
    private readonly launcher: SessionLauncher<S>,
    logger: Logger,
    private readonly clock: SupervisorClock = realClock,
  ) {
    this.log = logger.child({ plugin: plugin.name });
  }

  /** The current session's handshake answer, else the last one's. */
  get info(): PluginInfo | undefined {
    return this.session?.info ?? this.last?.info;
  }

  get capabilities(): ReadonlySet<Capability> {
    return this.handshaken?.capabilities ?? new Set();
  }

  /** The current session once it has handshaken, else the last one that did: what the plugin last said it is. */
  get handshaken(): S | undefined {
    return this.session?.info ? this.session : this.last;
  }

  /** The last stderr lines of the current (or last) process, secrets masked. */
  stderrTail(n?: number): string[] {
    return (this.session ?? this.previous)?.stderrTail(n) ?? [];
  }

  get modulePath(): string | undefined {
    return this.info?.modulePath;
  }

  get status(): PluginStatus {
    const ending = this.session?.ending;
    if (ending) return ending.kind === 'crashed' ? 'restarting' : ending.kind === 'stopped' ? 'stopped' : 'starting';
    if (this.session) return this.session.phase === 'running' ? 'running' : 'starting';
    return this.idle;
  }

  /** Why the plugin is failed, incompatible or restarting; every user sees it, so it never holds stderr. */
  get statusReason(): string | undefined {
    const session = this.session;
    if (session?.ending && session.ending.kind !== 'stopped') return session.ending.reason;
    return session?.phase === 'running' ? undefined : this.reason;
  }

  /** `statusReason` with the last stderr lines before the crash, for admins. */
  get statusDetail(): string | undefined {
    const session = this.session;
    if (session?.ending && session.ending.kind !== 'stopped') return session.ending.reason;
    return session?.phase === 'running' ? undefined : this.detail;
  }

  /** Settles when the current session has claimed its module path or ended before that. */
  get claimed(): Promise<void> {
    return this.session?.claimed ?? Promise.resolve();
  }

  /** Starts the plugin; resolves when this first session runs or has ended. Safe to call twice. */
  start(): Promise<void> {
    if (this.session || this.status === 'restarting') return this.session?.settled ?? Promise.resolve();
    this.crashes = [];
    return this.launch();
  }

  /** Ends the current session (bounded stop sequence) and starts none. Safe to call twice. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.clock.clearTimeout(this.backoff);
    if (this.idle === 'restarting') this.idle = 'stopped';
    await this.session?.stop();
  }

  /** Stops and starts again with a clean crash history (admin restart, file replaced). */
  async restart(plugin?: DiscoveredPlugin): Promise<void> {
    await this.stop();
    if (plugin) this.plugin = plugin;
    this.setReason(undefined);
    this.crashes = [];
    await this.launch();
  }

  /** The error for a call made while the plugin cannot take it. */
  notRunning(): PluginCallError {
    const name = this.info?.name ?? this.plugin.name;
    const status = this.status;
    const why = this.statusReason ? `: ${this.statusReason}` : '';
    return pluginCallError('FLOW_ERR_PLUGIN_NOT_RUNNING', `plugin ${name} is ${status === 'stopped' ? 'not running' : status}${why}`, ErrorCodes.TransportClosed);
  }

  private launch(): Promise<void> {
    this.wanted = true;
    const session = this.launcher({ plugin: this.plugin, tokens: this.tokens, logBudget: this.logBudget, log: this.log, ports: { notRunning: () => this.notRunning() } });
    this.session = session;
    void session.settled.then(() => {
      if (session.phase === 'running' && !session.ending) this.setReason(undefined);
    });
    void session.ended.then((end) => this.ended(session, end));
    return session.settled;
  }

  /** The session is over: decide what comes next from how it ended. */
  private ended(session: S, end: SessionEnd): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.previous = session;
    if (session.info) this.last = session;
    if (end.kind === 'stopped') {
      this.idle = 'stopped';
      return;
    }
    if (end.kind !== 'crashed') {
      this.settle(end.kind === 'incompatible' ? 'incompatible' : 'failed', end.reason);
      return;
    }
    this.lastError = end.detail + end.stderr;
    if (!this.wanted) {
      this.idle = 'stopped';
      return;
    }
    this.crashed(end);
  }

  /**
   * A crash: `crashLoopCount` crashes within `crashLoopWindowMs` leave the plugin `failed` with
   * the last stderr lines until an admin restart or a new file; otherwise the next session starts
   * after min(backoffMax, base·2^(n-1)) scaled by a random 50–100 % (jitter, so plugins that died
   * together do not come back in lockstep).
   */
  private crashed(end: Extract<SessionEnd, { kind: 'crashed' }>): void {
    const now = this.clock.now();
    const { crashLoopWindowMs, crashLoopCount, backoffBaseMs, backoffMaxMs } = this.policy;
    this.crashes = this.crashes.filter((t) => now - t < crashLoopWindowMs);
    this.crashes.push(now);
    if (this.crashes.length >= crashLoopCount) {
      this.log.error({ reason: this.lastError }, `plugin crashed ${this.crashes.length} times within ${crashLoopWindowMs} ms; giving up until an admin restarts it or its file changes`);
      this.idle = 'failed';
      this.setReason(`crashed ${this.crashes.length} times within ${Math.round(crashLoopWindowMs / 1000)} s: ${end.detail}`, end.stderr);
      return;
    }
    const exp = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (this.crashes.length - 1));
    const delay = Math.round(exp * (0.5 + this.clock.random() * 0.5));
    this.log.error({ reason: this.lastError, restartInMs: delay }, 'plugin crashed; restarting it');
    this.idle = 'restarting';
    this.setReason(end.detail, end.stderr);
    this.backoff = this.clock.setTimeout(() => {
      if (!this.wanted || this.session) return;
      this.restarts++;
      void this.launch();
    }, delay);
  }

  private settle(status: 'failed' | 'incompatible', reason: string): void {
    this.wanted = false;
    this.idle = status;
    this.setReason(reason);
    this.lastError = reason;
    if (reason.startsWith(DELIBERATE_REFUSAL)) this.log.debug({ reason }, 'plugin left out');
    else this.log.error({ reason }, status === 'incompatible' ? 'plugin is incompatible' : 'plugin cannot run');
  }

  private setReason(reason: string | undefined, stderr = ''): void {
    this.reason = reason;
    this.detail = reason === undefined ? undefined : reason + stderr;
  }
}
