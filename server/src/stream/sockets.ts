import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

/** What the websocket handshake needs of an upgrade request; plain data, so it can cross to another process. */
export interface UpgradeRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * The owner of open /stream sockets: it completes their handshakes, writes messages and pings to
 * them, and tells its `onClosed` callback (given at construction) when a stream ends for any
 * reason, its handshake failing included. The hub decides who may connect and which user's
 * messages go where; an owner only writes. Two owners exist: LocalStreams (sockets in this
 * process) and StreamProcess (sockets handed to a child process).
 */
export interface StreamSockets {
  /** Completes the handshake of an authenticated upgrade and keeps the socket as stream `id` of `userId`. */
  adopt(id: number, userId: number, req: UpgradeRequest, socket: Duplex, head: Buffer): void;
  /** Queues one message (its JSON text) for every open stream of the user, after what was queued before. */
  send(userId: number, json: string): void;
  /** Closes these streams (ids no longer open are skipped). */
  close(ids: readonly number[], code: number, reason: string): void;
  /** Writes what is queued, closes every stream with 1001 and resolves once they are closed. */
  shutdown(): Promise<void>;
}
