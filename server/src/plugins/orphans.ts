import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';

interface Entry {
  pid: number;
  /** Kernel start time of the process (field 22 of /proc/<pid>/stat), so a recycled pid is never killed. */
  start: string;
}

/** The start time of a live process, or undefined when it is gone (or not on Linux). */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields after it are unambiguous.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * `<datadir>/plugin-pids.json`: the plugin processes this server started and has not yet
 * seen exit. If the server is SIGKILLed and a plugin survives (it ignores stdin EOF and the
 * parent-death signal is unavailable), the next start kills it: the pid must still carry the
 * recorded start time, so an unrelated process that reused the pid is left alone.
 */
export class PidFile {
  private readonly file: string;
  private entries = new Map<number, Entry>();

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = path.join(dataDir, 'plugin-pids.json');
  }

  /** Kills the process groups of plugins left over from a previous run. */
  killStale(): number {
    let previous: Entry[] = [];
    try {
      previous = JSON.parse(readFileSync(this.file, 'utf8')) as Entry[];
    } catch {
      return 0;
    }
    let killed = 0;
    for (const entry of previous) {
      if (startTime(entry.pid) !== entry.start) continue;
      for (const target of [-entry.pid, entry.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // No such group or process.
        }
      }
      killed++;
    }
    if (killed > 0) this.log.warn({ killed }, 'killed plugin processes left over from a previous run');
    this.write();
    return killed;
  }

  add(pid: number): void {
    const start = startTime(pid);
    if (start === undefined) return;
    this.entries.set(pid, { pid, start });
    this.write();
  }

  remove(pid: number): void {
    if (this.entries.delete(pid)) this.write();
  }

  private write(): void {
    const tmp = this.file + '.tmp';
    try {
      writeFileSync(tmp, JSON.stringify([...this.entries.values()]));
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.warn({ err }, 'cannot record plugin pids; a crash of the server may leave plugin processes behind');
    }
  }
}
