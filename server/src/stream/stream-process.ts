import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { getPriority, setPriority } from 'node:os';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import type { FromStreamProcess, ToStreamProcess } from './process-messages.js';
import type { StreamSockets, UpgradeRequest } from './sockets.js';

const ENTRY = fileURLToPath(new URL('./stream-process-main.js', import.meta.url));
/** How many nice levels below the server the stream process runs. */
const NICE_OFFSET = 5;
/** Past this many characters of messages sent but not yet taken by the process, it is restarted. */
const MAX_BACKLOG_CHARS = 16 * 1024 * 1024;
/** How long shutdown waits for the process to close its streams before killing it. */
const SHUTDOWN_MS = 5000;
/** The end of a crashed process' stderr kept for the log line. */
const STDERR_TAIL = 4096;

export interface StreamProcessOptions {
  pingPeriodMs: number;
  onClosed: (id: number) => void;
  log: Logger;
  /** For tests: a lower bound on what may be in flight to the process. */
  maxBacklogChars?: number;
}

/** One start of the child process; never restarted (a new start is a new launch). */
interface Launch {
  child: ChildProcess;
  /** Streams this child holds. */
  owned: Set<number>;
  ready: boolean;
  sent: number;
  acked: number;
  stderr: string;
  /** Killed on purpose (it fell behind): its exit was already logged. */
  dropped: boolean;
  exited: Promise<void>;
}

/**
 * Open /stream sockets owned by a child process ("flow-streams") at a lower CPU priority.
 *
 * Why: writing a websocket frame is a syscall, and on loopback or a LAN it costs ~15 µs of
 * kernel time in the writer (bench/README.md, "Where the POST p50 with 1,000 streams goes"). A
 * message to 1,000 streams is then ~15 ms of the server's main thread, taken from the requests
 * that arrive meanwhile. In a child those writes run on another core, and on a busy machine they
 * yield to the server's requests (nice). The server hands each socket over right after its
 * upgrade was authenticated (Node's IPC passes the handle, as its cluster module does) and then
 * sends each message once per user with streams; ordering is the IPC channel's.
 *
 * TLS sockets cannot be handed over (their session lives in this process): `canAdopt` says no
 * and the hub keeps them in a LocalStreams. A child that dies loses its streams (they are
 * reported closed; clients reconnect) and the next stream starts a new one; a child that dies
 * before it is ready makes this owner refuse every later stream, so they stay in the server.
 */
export class StreamProcess implements StreamSockets {
  private current: Launch | undefined;
  private broken = false;
  private stopping = false;

  constructor(private readonly opts: StreamProcessOptions) {
    if (!existsSync(ENTRY)) {
      // A packaging mistake, not a user's: said once, and streams still work.
      this.broken = true;
      opts.log.warn({ entry: ENTRY }, 'the stream process entry is missing; streams stay in the server process');
    }
  }

  /** Whether this socket can be handed to the process: a plain TCP or unix socket, and the process works. */
  canAdopt(socket: Duplex): boolean {
    return !this.broken && !this.stopping && socket instanceof Socket && !(socket instanceof TLSSocket);
  }

  adopt(id: number, userId: number, req: UpgradeRequest, socket: Duplex, head: Buffer): void {
    const launch = this.current ?? this.launch();
    launch.owned.add(id);
    const m: ToStreamProcess = { t: 'adopt', id, userId, req, head: head.toString('base64') };
    // After the send the socket is closed here; the child holds its own descriptor.
    launch.child.send(m, socket as Socket, (err) => {
      if (!err) return;
      socket.destroy();
      if (launch.owned.delete(id)) this.opts.onClosed(id);
    });
  }

  send(userId: number, json: string): void {
    const launch = this.current;
    if (!launch) return;
    launch.sent += json.length;
    if (launch.sent - launch.acked > (this.opts.maxBacklogChars ?? MAX_BACKLOG_CHARS)) {
      this.opts.log.warn(
        { streams: launch.owned.size, backlogChars: launch.sent - launch.acked },
        'the stream process fell behind; restarting it (its streams are closed, clients reconnect)',
      );
      this.current = undefined;
      launch.dropped = true;
      launch.child.kill('SIGKILL');
      return;
    }
    this.tell(launch, { t: 'send', userId, json });
  }

  close(ids: readonly number[], code: number, reason: string): void {
    const launch = this.current;
    if (!launch) return;
    const mine = ids.filter((id) => launch.owned.delete(id));
    if (mine.length > 0) this.tell(launch, { t: 'close', ids: mine, code, reason });
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    const launch = this.current;
    if (!launch) return;
    this.tell(launch, { t: 'shutdown' });
    const timer = setTimeout(() => launch.child.kill('SIGKILL'), SHUTDOWN_MS);
    await launch.exited;
    clearTimeout(timer);
  }

  /** Sends on the channel; a failure means the child is gone, which its exit handles. */
  private tell(launch: Launch, m: ToStreamProcess): void {
    launch.child.send(m, (err) => void err);
  }

  private launch(): Launch {
    const child = fork(ENTRY, [String(this.opts.pingPeriodMs)], {
      // Nothing of the server's environment or flags (inspector, profilers) is needed there.
      execArgv: [],
      env: {},
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let onExit!: () => void;
    const launch: Launch = {
      child,
      owned: new Set(),
      ready: false,
      sent: 0,
      acked: 0,
      stderr: '',
      dropped: false,
      exited: new Promise((resolve) => (onExit = resolve)),
    };
    this.current = launch;
    try {
      setPriority(child.pid!, Math.min(19, getPriority() + NICE_OFFSET));
    } catch {
      // Not allowed or already gone: the process runs at the server's priority.
    }
    child.stderr!.on('data', (d: Buffer) => (launch.stderr = (launch.stderr + d.toString()).slice(-STDERR_TAIL)));
    child.on('message', (m: FromStreamProcess) => {
      if (m.t === 'ready') launch.ready = true;
      else if (m.t === 'ack') launch.acked = m.chars;
      else if (m.t === 'closed' && launch.owned.delete(m.id)) this.opts.onClosed(m.id);
    });
    let gone = false;
    const ended = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
      if (gone) return;
      gone = true;
      if (this.current === launch) this.current = undefined;
      const lost = [...launch.owned];
      launch.owned.clear();
      for (const id of lost) this.opts.onClosed(id);
      // On the way out, or killed on purpose: nothing more to say.
      if (!this.stopping && !launch.dropped) {
        if (!launch.ready) this.broken = true;
        this.opts.log.error(
          { code, signal, err: err?.message, streams: lost.length, stderr: launch.stderr.trim() || undefined },
          launch.ready ? 'the stream process exited; its streams were closed' : 'the stream process did not start; streams stay in the server process',
        );
      }
      onExit();
    };
    child.once('exit', (code, signal) => ended(code, signal));
    child.once('error', (err) => ended(null, null, err));
    // The server's own handles decide when it exits, not this child's.
    child.unref();
    child.channel?.unref();
    return launch;
  }
}
