import { createHash, randomBytes } from 'node:crypto';
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

/** The server (one PidFile of one process) that started a plugin. */
interface Owner {
  pid: number;
  /** Its kernel start time; undefined in the files and run ids of older versions. */
  start?: string;
  /** Random per PidFile, so two servers in one process (tests, embedding) are told apart. */
  instance?: string;
}

/** What `<datadir>/plugin-pids.json` holds. */
interface PidFileContent {
  owner: Owner;
  entries: Entry[];
}

const SELF_START = startTime(process.pid);
/** Instances of PidFile in this process that have not been closed: their plugins are live. */
const liveInstances = new Set<string>();

/**
 * Whether the server that started a process is provably gone: its pid no longer runs with its
 * recorded start time (another process may have the pid now), or, in this very process, its
 * PidFile was closed. Anything else (a live server, one we cannot identify) is left alone.
 */
function ownerGone(o: Owner): boolean {
  if (o.pid === process.pid && o.start !== undefined && o.start === SELF_START) {
    return o.instance === undefined || !liveInstances.has(o.instance);
  }
  const now = startTime(o.pid);
  if (now === undefined) return true;
  return o.start !== undefined && now !== o.start;
}

/** The owner encoded in a run id `<tag>.<pid>.<start>.<instance>.<n>` (older: `<tag>.<pid>.<n>`). */
function ownerOfRun(run: string): Owner | undefined {
  const parts = run.split('.');
  const pid = Number(parts[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return parts.length >= 5 ? { pid, start: parts[2], instance: parts[3] } : { pid };
}

/**
 * What this server started and must not outlive it, across its own crashes, and never what
 * another server started, even one running on a copy of this data dir (a backup taken by
 * copying the folder, a restore tested next to the live server):
 * - `<datadir>/plugin-pids.json`: the server that wrote it (pid, kernel start time, a random
 *   instance id) and the plugin processes it started and has not yet seen exit. If the server
 *   is SIGKILLed and a plugin survives (it ignores stdin EOF and the parent-death signal is
 *   unavailable), the next start kills it, but only when that server is provably gone and the
 *   pid still carries the recorded start time (an unrelated process that reused it is left alone);
 * - run ids (RUN_VAR): each launch's environment carries `<tag>.<server pid>.<server start>.<instance>.<n>`,
 *   the tag derived from the data dir. A process a plugin daemonized (`setsid`, double fork) is in
 *   no process group the host knows and no pid file, but it keeps that variable; the next start
 *   kills every process with this data dir's tag whose server is provably gone.
 */
export class PidFile {
  private readonly file: string;
  private readonly tag: string;
  private readonly owner: Owner;
  private runs = 0;
  private entries = new Map<number, Entry>();

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = path.join(dataDir, 'plugin-pids.json');
    this.tag = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
    this.owner = { pid: process.pid, start: SELF_START ?? '0', instance: randomBytes(6).toString('hex') };
    liveInstances.add(this.owner.instance!);
  }

  /** The run id of a new launch (RUN_VAR). */
  newRun(): string {
    return `${this.tag}.${this.owner.pid}.${this.owner.start}.${this.owner.instance}.${++this.runs}`;
  }

  /** Kills the process groups of plugins left over by a server that is gone, and what they daemonized. */
  async killStale(): Promise<number> {
    let previous: PidFileContent | undefined;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      // Older versions wrote a bare array and no owner: only a live parent proves it is not stale.
      previous = Array.isArray(parsed) ? { owner: { pid: 0 }, entries: parsed as Entry[] } : (parsed as PidFileContent);
    } catch {
      // None recorded (a first start); daemons may still be around.
    }
    let killed = 0;
    let spared = 0;
    const legacy = previous?.owner.pid === 0;
    if (previous && (legacy || ownerGone(previous.owner))) {
      for (const entry of previous.entries ?? []) {
        if (startTime(entry.pid) !== entry.start) continue;
        if (legacy && parentAlive(entry.pid)) {
          spared++;
          continue;
        }
        for (const target of [-entry.pid, entry.pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // No such group or process.
          }
        }
        killed++;
      }
    } else if (previous) {
      spared += previous.entries?.length ?? 0;
    }
    killed += killAll(
      await processesOfRun((run) => {
        if (!run.startsWith(`${this.tag}.`)) return false;
        const owner = ownerOfRun(run);
        return owner !== undefined && ownerGone(owner);
      }),
    );
    if (killed > 0) this.log.warn({ killed }, 'killed plugin processes left over from a previous run');
    if (spared > 0) this.log.warn({ spared, owner: previous?.owner.pid }, 'plugin-pids.json names processes of a server that is still running (a copy of its data dir?): left alone');
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

  /** This server's plugins are stopped: a later server in this process may clean up after it. */
  close(): void {
    liveInstances.delete(this.owner.instance!);
  }

  private write(): void {
    const tmp = this.file + '.tmp';
    try {
      const content: PidFileContent = { owner: this.owner, entries: [...this.entries.values()] };
      writeFileSync(tmp, JSON.stringify(content));
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.warn({ err }, 'cannot record plugin pids; a crash of the server may leave plugin processes behind');
    }
  }
}

/** Whether the parent of `pid` is alive and not init (a plugin whose server died is reparented). */
function parentAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return ppid > 1 && startTime(ppid) !== undefined;
  } catch {
    return false;
  }
}
