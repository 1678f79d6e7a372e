import { once } from 'node:events';
import type { ProcessHandle } from './process.js';

/** Plugin → host calls with possibly large answers running at once, per session (largeAnswer). */
const LARGE_ANSWER_SLOTS = 4;

/** What `check` found: nothing queued beyond the bound, a backlog to refuse calls for, or a plugin that stopped reading. */
export type BacklogState = { state: 'ok' } | { state: 'refused' | 'hung'; bytes: number };

/**
 * Writes to a plugin that does not read its stdin queue up in the host's memory (Node's stream
 * buffer has no bound). This bounds what one session's process may leave unread: past
 * `limitBytes` (twice the frame limit) calls are refused and notifications dropped; staying
 * over it for longer than `graceMs` (the ping deadline) means hung; a busy plugin that
 * catches up is left alone.
 */
export class StdinBacklog {
  private since: number | undefined;
  private slots = LARGE_ANSWER_SLOTS;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly proc: ProcessHandle,
    private readonly limitBytes: number,
    readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  check(): BacklogState {
    const bytes = this.proc.running ? this.proc.stdin.writableLength : 0;
    if (bytes <= this.limitBytes) {
      this.since = undefined;
      return { state: 'ok' };
    }
    this.since ??= this.now();
    return { state: this.now() - this.since <= this.graceMs ? 'refused' : 'hung', bytes };
  }

  /** check() in words: undefined while the plugin reads; else what a refused caller is told, or why the plugin is hung. */
  problem(): { state: 'refused' | 'hung'; message: string } | undefined {
    const found = this.check();
    if (found.state === 'ok') return undefined;
    if (found.state === 'refused') return { state: 'refused', message: `is not reading its input (${found.bytes} bytes waiting); try again shortly` };
    return { state: 'hung', message: `stopped reading its stdin (${found.bytes} bytes waiting for over ${this.graceMs} ms)` };
  }

  /**
   * Runs a plugin → host call whose answer can be large (storage/load, kv/get, kv/list: up
   * to the storage quota each): at most LARGE_ANSWER_SLOTS at a time, each only once the
   * plugin has read what it was sent. Without it, a plugin asking for its 4 MB blob a thousand
   * times without reading made the host hold gigabytes of answers (100 asks of 3 MB: +943 MB
   * RSS). Waiting callers hold only their params; the ping (or the check of calls) ends a
   * plugin that never reads.
   */
  async largeAnswer<T>(work: () => Promise<T>): Promise<T> {
    while (this.slots === 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.slots--;
    try {
      const proc = this.proc;
      while (proc.running && proc.stdin.writableLength > this.limitBytes) {
        await Promise.race([once(proc.stdin, 'drain').catch(() => undefined), proc.exited]);
      }
      return await work();
    } finally {
      this.slots++;
      this.waiters.shift()?.();
    }
  }
}

/**
 * Why an unanswered ping ends a session: with its input backed up past the bound the plugin
 * stopped reading, which says more than "its event loop is stuck", whichever of the two
 * checks fired first.
 */
export function missedPingReason(backlog: StdinBacklog | undefined, pingMs: number): string {
  const found = backlog?.check();
  if (found && found.state !== 'ok') return `stopped reading its stdin (${found.bytes} bytes waiting; ping not answered within ${pingMs} ms)`;
  return `did not answer ping within ${pingMs} ms`;
}
