import type { WebSocket } from 'ws';

/** Gotify's pong timeout: a client must answer a ping within pingPeriod + 15 s. */
const PONG_GRACE_MS = 15_000;
/**
 * A reader that stops reading makes ws buffer every message in memory. Gotify drops a client
 * whose write blocks for 2 s; here a client more than this far behind is dropped.
 */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** A peer that never completes the closing handshake is cut off after this. */
const CLOSE_GRACE_MS = 2000;

/**
 * One /stream connection. The server only writes (JSON messages and pings); anything the
 * client sends is ignored (ws' maxPayload, 64 bytes like Gotify's read limit, drops abusers).
 */
export class StreamClient {
  /** Resolves once the socket is closed, whoever closed it. */
  readonly ended: Promise<void>;
  private pingTimer: NodeJS.Timeout;
  private lastPong = Date.now();
  private closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly id: number,
    readonly userId: number,
    pingPeriodMs: number,
    private readonly onClose: (c: StreamClient) => void,
  ) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('pong', () => {
      this.lastPong = Date.now();
    });
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.close());
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastPong > pingPeriodMs + PONG_GRACE_MS) {
        socket.terminate();
        return;
      }
      socket.ping();
    }, pingPeriodMs);
    this.pingTimer.unref();
  }

  /**
   * Sends an already serialised message (UTF-8 bytes, encoded once for all streams; sent as a
   * text frame); a dead socket is closed, never thrown at the sender.
   */
  send(json: Buffer): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.terminate();
      this.cleanup();
      return;
    }
    // No per-send callback: a failed write surfaces as the socket's 'error' event, handled above.
    this.socket.send(json, { binary: false });
  }

  /** Closes the connection. Safe to call twice. */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    this.onClose(this);
  }
}
