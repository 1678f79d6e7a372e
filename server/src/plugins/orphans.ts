import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { RUN_VAR } from './env.js';

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

const RUN_NEEDLE = Buffer.from(`${RUN_VAR}=`);

/** The value of RUN_VAR in a NUL-separated environment block. */
function runOf(environ: Buffer): string | undefined {
  let at = environ.indexOf(RUN_NEEDLE);
  while (at > 0 && environ[at - 1] !== 0) at = environ.indexOf(RUN_NEEDLE, at + 1);
  if (at < 0) return undefined;
  const start = at + RUN_NEEDLE.length;
  const end = environ.indexOf(0, start);
  return environ.toString('utf8', start, end < 0 ? environ.length : end);
}

/**
 * Live processes other than this one whose environment carries a RUN_VAR that `match`
 * accepts. Only processes of the server's own user can be read (and killed); off Linux
 * (no /proc) there are none. A few milliseconds for a few hundred processes.
 */
export async function processesOfRun(match: (run: string) => boolean): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  const pids = names.filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => pid !== process.pid);
  const found: number[] = [];
  // Bounded: one file descriptor per process read at once.
  for (let i = 0; i < pids.length; i += 64) {
    await Promise.all(
      pids.slice(i, i + 64).map(async (pid) => {
        try {
          const run = runOf(await readFile(`/proc/${pid}/environ`));
          if (run !== undefined && match(run)) found.push(pid);
        } catch {
          // Gone, or another user's.
        }
      }),
    );
  }
  return found;
}

/** SIGKILLs each pid; how many were still there. */
export function killAll(pids: number[]): number {
  let killed = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // Exited meanwhile.
    }
  }
  return killed;
}

/**
 * What this server started and must not outlive it, across its own crashes:
 * - `<datadir>/plugin-pids.json`: the plugin processes it started and has not yet seen exit.
 *   If the server is SIGKILLed and a plugin survives (it ignores stdin EOF and the
 *   parent-death signal is unavailable), the next start kills it: the pid must still carry the
 *   recorded start time, so an unrelated process that reused the pid is left alone.
 * - run ids (RUN_VAR): each launch's environment carries `<tag>.<server pid>.<n>`, the tag
 *   derived from the data dir. A process a plugin daemonized (`setsid`, double fork) is in no
 *   process group the host knows and no pid file, but it keeps that variable; the next start
 *   kills every process with this data dir's tag (only one server runs per data dir).
 */
export class PidFile {
  private readonly file: string;
  private readonly tag: string;
  private runs = 0;
  private entries = new Map<number, Entry>();

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = path.join(dataDir, 'plugin-pids.json');
    this.tag = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
  }

  /** The run id of a new launch (RUN_VAR). */
  newRun(): string {
    return `${this.tag}.${process.pid}.${++this.runs}`;
  }

  /** Kills the process groups of plugins left over from a previous run, and what they daemonized. */
  async killStale(): Promise<number> {
    let previous: Entry[] | undefined;
    try {
      previous = JSON.parse(readFileSync(this.file, 'utf8')) as Entry[];
    } catch {
      // None recorded (a first start); daemons may still be around.
    }
    let killed = 0;
    for (const entry of previous ?? []) {
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
    killed += killAll(await processesOfRun((run) => run.startsWith(`${this.tag}.`)));
    if (killed > 0) this.log.warn({ killed }, 'killed plugin processes left over from a previous run');
    if (previous) this.write();
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
