import type { UpgradeRequest } from './sockets.js';

/**
 * The messages between the server and its stream process (Node's IPC channel, JSON). The
 * channel keeps their order, so the process sees adopts, sends and closes in the order the
 * server made them, and a message reaches exactly the streams the server had open for it.
 */
export type ToStreamProcess =
  /** Sent with the socket's handle; `head` is base64 (bytes read past the upgrade request). */
  | { t: 'adopt'; id: number; userId: number; req: UpgradeRequest; head: string }
  | { t: 'send'; userId: number; json: string }
  | { t: 'close'; ids: number[]; code: number; reason: string }
  | { t: 'shutdown' };

export type FromStreamProcess =
  | { t: 'ready' }
  | { t: 'closed'; id: number }
  /** Characters of `send` JSON processed so far (cumulative): the server bounds what is in flight. */
  | { t: 'ack'; chars: number };
