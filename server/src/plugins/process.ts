import type { Readable, Writable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { settlesWithin } from '../lib/deadline.js';
import type { Logger } from '../log.js';
import { parseJsonBounded } from '../parse/bounded.js';
import { RUN_VAR } from './env.js';
import { DROPPED_LOG_LINES, LogBudget } from './log-budget.js';
import { killAll, processesOfRun } from './orphans.js';

/** What to run: produced by discovery from an executable file or a plugin.yaml manifest. */
export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  /** The complete environment of the child (see env.ts); nothing of the server's leaks in. */
  env: Record<string, string>;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (ENOENT, EACCES, ...). */
  spawnError?: string;
}

/** What a session uses of its process; PluginProcess in the server, a fake in session.test.ts. */
export interface ProcessHandle {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly pid: number | undefined;
  readonly startedAt: number;
  readonly exited: Promise<ExitInfo>;
  readonly stderr: LineRing;
  readonly running: boolean;
  signal(sig: NodeJS.Signals): void;
  waitExit(ms: number): Promise<boolean>;
  terminate(stepMs: number): Promise<ExitInfo>;
}

/** Starts a plugin's process: PluginProcess.spawn unless a test hands in another. */
export type Spawner = (spec: LaunchSpec, opts: { log: Logger; stderrLines: number; redact: (line: string) => string }) => Promise<ProcessHandle>;

/** Keeps the last `size` lines; the admin endpoint and crash reports show them. */
export class LineRing {
  private lines: string[] = [];
  constructor(private readonly size: number) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.splice(0, this.lines.length - this.size);
  }
  tail(n = this.size): string[] {
    return this.lines.slice(-n);
  }
}

const MAX_LINE = 2000;
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * `setpriv --pdeathsig KILL` makes the kernel SIGKILL the plugin when the server dies, even by
 * SIGKILL (PR_SET_PDEATHSIG survives exec). It is util-linux, present on every mainstream
 * Linux; where it is missing, plugins still see EOF on stdin and the pid file (orphans.ts)
 * catches the rest at the next start.
 */
let pdeathsigWrapper: string | undefined | null = null;
async function findPdeathsigWrapper(): Promise<string | undefined> {
  if (pdeathsigWrapper !== null) return pdeathsigWrapper;
  if (process.platform !== 'linux') return (pdeathsigWrapper = undefined);
  const probe = await execa('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  pdeathsigWrapper = probe.exitCode === 0 ? 'setpriv' : undefined;
  return pdeathsigWrapper;
}

/**
 * One running plugin executable. stdin/stdout carry the protocol; stderr is split into lines,
 * re-logged on the plugin's logger (JSON lines from plugin-kit keep their level, other lines
 * go to debug) and kept in a bounded ring.
 *
 * The child leads its own process group (`detached`), so stop and kill reach anything it
 * spawned; it is not unref'd, and the kernel kills it if the server dies (see above).
 */
export class PluginProcess implements ProcessHandle {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly pid: number | undefined;
  readonly startedAt = Date.now();
  /** Resolves once, when the process has exited (or failed to start). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  private readonly log: Logger;

  private constructor(
    child: ResultPromise,
    /** The launch's RUN_VAR: marks everything the plugin started, in its group or not. */
    private readonly run: string | undefined,
    readonly stderr: LineRing,
    log: Logger,
    private readonly redact: (line: string) => string,
  ) {
    this.stdin = child.stdin!;
    this.stdout = child.stdout!;
    this.pid = child.pid;
    // Every line the plugin writes is tagged with the plugin (from the caller) and this pid.
    this.log = child.pid === undefined ? log : log.child({ pid: child.pid });
    // A write to a dead plugin raises EPIPE on stdin; the exit handler deals with the death.
    this.stdin.on('error', () => undefined);
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        resolve(info);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', (err: Error) => done({ code: null, signal: null, spawnError: err.message }));
      // execa settles with the result (reject: false); the events above carry everything we need.
      child.then(
        (result) => {
          if (result.failed && result.exitCode === undefined && !result.signal) done({ code: null, signal: null, spawnError: result.shortMessage });
        },
        () => undefined,
      );
    });
    this.readStderr(child.stderr!);
  }

  /** Spawns the plugin. Never throws for a missing or broken executable: `exited` reports it. */
  static async spawn(spec: LaunchSpec, opts: { log: Logger; stderrLines: number; redact: (line: string) => string }): Promise<PluginProcess> {
    const wrapper = await findPdeathsigWrapper();
    const [file, args] = wrapper ? [wrapper, ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args]] : [spec.command, spec.args];
    const child = execa(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      extendEnv: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      // The protocol streams through stdout; execa must not buffer it (or kill at maxBuffer).
      buffer: false,
      reject: false,
      detached: true,
      cleanup: true,
      stripFinalNewline: false,
    });
    const proc = new PluginProcess(child, spec.env[RUN_VAR], new LineRing(opts.stderrLines), opts.log, opts.redact);
    return proc;
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.pid !== undefined;
  }

  /** Sends a signal to the whole process group; a no-op once the process has exited. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running || this.pid === undefined) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {
        // Already gone between the check and the kill.
      }
    }
  }

  /** Waits for the exit at most `ms`; true when it exited. */
  async waitExit(ms: number): Promise<boolean> {
    if (!this.running) return true;
    return settlesWithin(this.exited, ms);
  }

  /**
   * The forceful end of the stop sequence (the supervisor has already sent `shutdown` and
   * `exit`), each step bounded by `stepMs`:
   * 1. close stdin: plugins exit on EOF;
   * 2. SIGTERM the process group;
   * 3. SIGKILL the process group and wait for the exit;
   * 4. SIGKILL whatever still carries the launch's run id: processes the plugin moved out of
   *    its group (daemons).
   * Safe to call twice.
   */
  async terminate(stepMs: number): Promise<ExitInfo> {
    if (this.running) {
      this.stdin.end();
      if (!(await this.waitExit(stepMs))) {
        this.signal('SIGTERM');
        if (!(await this.waitExit(stepMs))) {
          this.log.warn({ stepMs }, 'plugin ignored stdin close and SIGTERM; killing it');
          this.signal('SIGKILL');
        }
      }
    }
    const info = await this.exited;
    // The leader is gone; make sure nothing it spawned lingers in its group.
    if (this.pid !== undefined) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // No process left in the group: the normal case.
      }
    }
    const run = this.run;
    if (run !== undefined) {
      const daemons = killAll(await processesOfRun((value) => value === run));
      if (daemons > 0) this.log.warn({ killed: daemons }, 'killed processes the plugin had started outside its process group');
    }
    return info;
  }

  private readStderr(stream: Readable): void {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      if (rest.length > MAX_LINE) {
        parts.push(rest);
        rest = '';
      }
      for (const part of parts) this.line(part);
    });
    stream.on('end', () => {
      if (rest !== '') this.line(rest);
    });
    stream.on('error', () => undefined);
  }

  private line(raw: string): void {
    // Masked before it is cut: a cut through a secret would leave a prefix nothing matches.
    const text = this.redact(raw.replace(/\r$/, '')).slice(0, MAX_LINE);
    if (text.trim() === '') return;
    this.stderr.push(text);
    if (text.startsWith('{')) {
      try {
        const entry = parseJsonBounded(text) as { level?: unknown; msg?: unknown; message?: unknown; instanceId?: unknown; fields?: unknown };
        const level = typeof entry.level === 'string' && LEVELS.has(entry.level) ? entry.level : levelFromNumber(entry.level);
        if (level) {
          const msg = typeof entry.msg === 'string' ? entry.msg : typeof entry.message === 'string' ? entry.message : text;
          // The context log/write carries too; the line was masked and cut as a whole above.
          const context: Record<string, unknown> = { stderr: true };
          if (typeof entry.instanceId === 'string') context.instanceId = entry.instanceId.slice(0, 128);
          if (typeof entry.fields === 'object' && entry.fields !== null) context.fields = entry.fields;
          if (this.logAllowed(level)) this.log[level as 'info'](context, msg);
          return;
        }
      } catch {
        // Not JSON after all: a plain line.
      }
    }
    if (this.logAllowed('debug')) this.log.debug({ stderr: true }, text);
  }

  private readonly budget = new LogBudget();
  /** Lines the log would drop anyway cost nothing; the others spend the plugin's LogBudget. */
  private logAllowed(level: string): boolean {
    return this.log.isLevelEnabled(level) && this.budget.take((dropped) => this.log.warn({ stderr: true, dropped }, DROPPED_LOG_LINES));
  }
}

/** pino writes numeric levels (30 = info); plugin-kit may too. */
function levelFromNumber(level: unknown): string | undefined {
  if (typeof level !== 'number') return undefined;
  if (level >= 60) return 'fatal';
  if (level >= 50) return 'error';
  if (level >= 40) return 'warn';
  if (level >= 30) return 'info';
  if (level >= 20) return 'debug';
  return 'trace';
}
