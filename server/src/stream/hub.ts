import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { FlowError, errorBody, forbidden } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Auth } from '../http/auth.js';
import { credentialsOf } from '../http/auth.js';
import { forwardedHost } from '../http/location.js';
import type { Logger } from '../log.js';
import { toExternalMessage, type MessageRecord } from '../model/message.js';
import { StreamClient } from './client.js';
import { STATUS_CODES } from 'node:http';

export interface StreamHubOptions {
  bus: EventBus;
  auth: Auth;
  log: Logger;
  pingPeriodSeconds: number;
  /** Regexes matched against the lower-cased Origin host name (server.stream.allowedorigins). */
  allowedOrigins: readonly string[];
  /**
   * Called every `lastUsedPeriodMs` with the distinct client tokens of the open streams, so a
   * client that stays connected keeps a fresh lastUsed (Gotify's 5-minute ticker in router.go:
   * `CollectConnectedClientTokens` → `UpdateClientTokensLastUsed`). Streams opened with Basic
   * credentials have no token and are left out.
   */
  touchTokens?: (tokens: string[]) => void;
  /** Period of `touchTokens`; default 5 minutes, as Gotify. Tests shorten it. */
  lastUsedPeriodMs?: number;
}

/** Gotify's ticker period for refreshing lastUsed of connected clients. */
const LAST_USED_PERIOD_MS = 5 * 60_000;
/** Socket writes per event-loop turn: a message to 1,000 streams is spread over a few turns. */
const SENDS_PER_TURN = 200;
/** Past this many writes queued, the queue is drained at once: the senders outrun the streams. */
const MAX_QUEUED_SENDS = 50_000;

/** One message on its way to the streams that were open when it was created. */
interface Delivery {
  frame: Buffer;
  to: StreamClient[];
  next: number;
}

/**
 * The /stream websocket hub: authenticates upgrades (client token or Basic, as any client
 * route), checks Origin, keeps the open connections per user and pushes each new message of
 * a user to all of that user's connections. It subscribes to the event bus:
 * messageCreated and messageFromReplica → push; clientDeleted → close streams opened with that token;
 * userDeleted → close all of the user's streams.
 */
export class StreamHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64, perMessageDeflate: false });
  private readonly clients = new Map<number, Set<StreamClient>>();
  private readonly origins: RegExp[];
  private readonly unsubscribe: (() => void)[];
  private readonly lastUsedTimer: NodeJS.Timeout | undefined;
  /** Deliveries in creation order; each socket gets its messages in that order. */
  private readonly outbox: Delivery[] = [];
  private queuedSends = 0;
  private pumping = false;

  constructor(private readonly opts: StreamHubOptions) {
    this.origins = opts.allowedOrigins.map((o) => new RegExp(o));
    const touch = opts.touchTokens;
    if (touch) {
      this.lastUsedTimer = setInterval(() => {
        const tokens = this.connectedTokens();
        if (tokens.length > 0) touch(tokens);
      }, opts.lastUsedPeriodMs ?? LAST_USED_PERIOD_MS);
      this.lastUsedTimer.unref();
    }
    this.unsubscribe = [
      opts.bus.on('messageCreated', ({ message }) => this.push(message)),
      opts.bus.on('messageFromReplica', ({ message }) => this.push(message)),
      opts.bus.on('clientDeleted', ({ client }) => {
        for (const c of [...(this.clients.get(client.userId) ?? [])]) if (c.token === client.token) c.close();
      }),
      opts.bus.on('userDeleted', ({ user }) => {
        for (const c of [...(this.clients.get(user.id) ?? [])]) c.close();
        this.clients.delete(user.id);
      }),
    ];
  }

  /** Queues a message for the user's open streams. */
  private push(message: MessageRecord): void {
    const set = this.clients.get(message.userId);
    if (!set || set.size === 0) return;
    // Gorilla's WriteJSON is a json.Encoder: Gotify's frames end in a newline.
    const frame = Buffer.from(JSON.stringify(toExternalMessage(message)) + '\n');
    this.outbox.push({ frame, to: [...set], next: 0 });
    this.queuedSends += set.size;
    this.pump();
  }

  /** True when the user has an open stream (other replicas' messages are read only for such users). */
  has(userId: number): boolean {
    return (this.clients.get(userId)?.size ?? 0) > 0;
  }

  /** The users with an open stream. */
  userIds(): number[] {
    return [...this.clients.keys()].filter((u) => this.has(u));
  }

  /**
   * Writes queued messages to their sockets, SENDS_PER_TURN per turn of the event loop, so a
   * message to many streams never holds up other requests for long; the first turn runs at
   * once. Order per socket is the queue's order.
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

  /** Number of open streams, for tests and diagnostics. */
  count(userId?: number): number {
    if (userId !== undefined) return this.clients.get(userId)?.size ?? 0;
    let n = 0;
    for (const s of this.clients.values()) n += s.size;
    return n;
  }

  /** The distinct client tokens of all open streams (Gotify's CollectConnectedClientTokens). */
  connectedTokens(): string[] {
    const tokens = new Set<string>();
    for (const set of this.clients.values()) for (const c of set) if (c.token) tokens.add(c.token);
    return [...tokens];
  }

  /** Gotify's isAllowedOrigin: no Origin, same host, or a configured regex on the host name. */
  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false;
    }
    const host = u.host.toLowerCase();
    if (host === (req.headers.host ?? '').toLowerCase()) return true;
    // A reverse proxy that rewrites Host passes the public one here. Safe to trust: a
    // cross-site page cannot set headers on a WebSocket handshake.
    if (host === forwardedHost(req)) return true;
    return this.origins.some((re) => re.test(u.hostname.toLowerCase()));
  }

  /** Handles an HTTP upgrade for /stream. Failures are answered with Gotify's error body. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const auth = await this.opts.auth.check('client', credentialsOf(req));
      if (!this.originAllowed(req)) throw forbidden('origin not allowed');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const client = new StreamClient(ws, auth.userId, auth.token, this.opts.pingPeriodSeconds * 1000, (c) =>
          this.clients.get(c.userId)?.delete(c),
        );
        let set = this.clients.get(auth.userId);
        if (!set) this.clients.set(auth.userId, (set = new Set()));
        set.add(client);
      });
    } catch (err) {
      const status = err instanceof FlowError ? err.status : 500;
      const description = err instanceof FlowError && err.expose ? err.message : 'internal server error';
      if (!(err instanceof FlowError)) this.opts.log.error({ err }, 'stream upgrade failed');
      const body = JSON.stringify(errorBody(status, description));
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
  }

  /** Closes every stream (server shutdown, 1001 going away). Safe to call twice. */
  close(): void {
    clearInterval(this.lastUsedTimer);
    for (const u of this.unsubscribe) u();
    // What is queued still goes out before the close frames.
    for (const d of this.outbox.splice(0)) for (let i = d.next; i < d.to.length; i++) d.to[i]!.send(d.frame);
    this.queuedSends = 0;
    for (const set of this.clients.values()) for (const c of [...set]) c.close(1001, 'server shutting down');
    this.clients.clear();
    this.wss.close();
  }
}
