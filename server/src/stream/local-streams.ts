import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { StreamClient } from './client.js';
import type { StreamSockets, UpgradeRequest } from './sockets.js';

/** Socket writes per event-loop turn: a message to 1,000 streams is spread over a few turns. */
const SENDS_PER_TURN = 200;
/** Past this many writes queued, the queue is drained at once: the senders outrun the streams. */
const MAX_QUEUED_SENDS = 50_000;

/** One message on its way to the streams that were open when it was queued. */
interface Delivery {
  frame: Buffer;
  to: StreamClient[];
  next: number;
}

export interface LocalStreamsOptions {
  pingPeriodMs: number;
  onClosed: (id: number) => void;
}

/**
 * Open /stream sockets owned by this process. Each message is encoded once and written to its
 * user's sockets SENDS_PER_TURN per turn of the event loop, in queue order per socket.
 */
export class LocalStreams implements StreamSockets {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64, perMessageDeflate: false });
  private readonly byId = new Map<number, StreamClient>();
  private readonly byUser = new Map<number, Set<StreamClient>>();
  private readonly outbox: Delivery[] = [];
  private queuedSends = 0;
  private pumping = false;

  constructor(private readonly opts: LocalStreamsOptions) {}

  adopt(id: number, userId: number, req: UpgradeRequest, socket: Duplex, head: Buffer): void {
    let adopted = false;
    // ws reads only method, url and headers of the request. Without a verifyClient option its
    // handshake is synchronous: when the callback has not run on return, ws has already answered
    // the socket with an HTTP error (bad key, version, method) and the stream never opened.
    this.wss.handleUpgrade(req as IncomingMessage, socket, head, (ws) => {
      adopted = true;
      const client = new StreamClient(ws, id, userId, this.opts.pingPeriodMs, (c) => this.forget(c));
      this.byId.set(id, client);
      let set = this.byUser.get(userId);
      if (!set) this.byUser.set(userId, (set = new Set()));
      set.add(client);
    });
    if (!adopted) this.opts.onClosed(id);
  }

  send(userId: number, json: string): void {
    const set = this.byUser.get(userId);
    if (!set || set.size === 0) return;
    this.outbox.push({ frame: Buffer.from(json), to: [...set], next: 0 });
    this.queuedSends += set.size;
    this.pump();
  }

  close(ids: readonly number[], code: number, reason: string): void {
    for (const id of ids) this.byId.get(id)?.close(code, reason);
  }

  async shutdown(): Promise<void> {
    // What is queued still goes out before the close frames.
    for (const d of this.outbox.splice(0)) for (let i = d.next; i < d.to.length; i++) d.to[i]!.send(d.frame);
    this.queuedSends = 0;
    const open = [...this.byId.values()];
    for (const c of open) c.close(1001, 'server shutting down');
    this.wss.close();
    await Promise.all(open.map((c) => c.ended));
  }

  private forget(c: StreamClient): void {
    this.byId.delete(c.id);
    const set = this.byUser.get(c.userId);
    set?.delete(c);
    if (set?.size === 0) this.byUser.delete(c.userId);
    this.opts.onClosed(c.id);
  }

  /**
   * Writes queued messages, SENDS_PER_TURN per turn of the event loop, so a message to many
   * streams never holds up other work for long; the first turn runs at once.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    let budget = this.queuedSends > MAX_QUEUED_SENDS ? Infinity : SENDS_PER_TURN;
    while (this.outbox.length > 0 && budget > 0) {
      const d = this.outbox[0]!;
      while (d.next < d.to.length && budget > 0) {
        d.to[d.next++]!.send(d.frame);
        this.queuedSends--;
        budget--;
      }
      if (d.next === d.to.length) this.outbox.shift();
    }
    if (this.outbox.length === 0) {
      this.pumping = false;
      return;
    }
    setImmediate(() => {
      this.pumping = false;
      this.pump();
    });
  }
}
