import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FlowError, errorBody, forbidden } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Auth } from '../http/auth.js';
import { credentialsOf } from '../http/auth.js';
import { forwardedHost } from '../http/location.js';
import type { Logger } from '../log.js';
import { toExternalMessage, type MessageRecord } from '../model/message.js';
import { LocalStreams } from './local-streams.js';
import type { StreamSockets, UpgradeRequest } from './sockets.js';
import { StreamProcess } from './stream-process.js';

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
  /** Hand plain (not TLS) sockets to the stream process (`server.stream.writerprocess`). */
  writerProcess: boolean;
  /** For tests: how far the stream process may fall behind before it is restarted. */
  maxWriterBacklogChars?: number;
}

/**
 * What the websocket handshake reads of the request: its method and the Upgrade and
 * Sec-WebSocket-* headers. Credentials (the token in the URL, Authorization, cookies) stay here,
 * even when the socket goes to the stream process.
 */
function handshakeOf(req: IncomingMessage): UpgradeRequest {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (name === 'upgrade' || name.startsWith('sec-websocket-')) headers[name] = value;
  return { method: req.method ?? 'GET', url: '/stream', headers };
}

/** Gotify's ticker period for refreshing lastUsed of connected clients. */
const LAST_USED_PERIOD_MS = 5 * 60_000;

/** An open stream as the hub knows it; its socket lives in `owner`. */
interface OpenStream {
  userId: number;
  /** The client token used to connect ('' with Basic); deleting that client closes this stream. */
  token: string;
  owner: StreamSockets;
}

/**
 * The /stream websocket hub: authenticates upgrades (client token or Basic, as any client
 * route), checks Origin, keeps the open streams per user and hands each new message of a user
 * to the owner of that user's sockets. Sockets are owned by the stream process (StreamProcess,
 * `server.stream.writerprocess`) or, for TLS sockets and when that is off, by this process
 * (LocalStreams). It subscribes to the event bus: messageCreated and messageFromReplica → push;
 * clientDeleted → close streams opened with that token; userDeleted → close all of the user's
 * streams.
 */
export class StreamHub {
  private readonly streams = new Map<number, OpenStream>();
  private readonly byUser = new Map<number, Set<number>>();
  private nextId = 1;
  private readonly local: LocalStreams;
  private readonly streamProcess: StreamProcess | undefined;
  private readonly origins: RegExp[];
  private readonly unsubscribe: (() => void)[];
  private readonly lastUsedTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: StreamHubOptions) {
    this.origins = opts.allowedOrigins.map((o) => new RegExp(o));
    const pingPeriodMs = opts.pingPeriodSeconds * 1000;
    const onClosed = (id: number) => this.forget(id);
    this.local = new LocalStreams({ pingPeriodMs, onClosed });
    if (opts.writerProcess) this.streamProcess = new StreamProcess({ pingPeriodMs, onClosed, log: opts.log, maxBacklogChars: opts.maxWriterBacklogChars });
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
      opts.bus.on('clientDeleted', ({ client }) => this.closeWhere(client.userId, (s) => s.token === client.token)),
      opts.bus.on('userDeleted', ({ user }) => this.closeWhere(user.id, () => true)),
    ];
  }

  /** Hands a message to the owners of the user's open streams. */
  private push(message: MessageRecord): void {
    const ids = this.byUser.get(message.userId);
    if (!ids) return;
    // Gorilla's WriteJSON is a json.Encoder: Gotify's frames end in a newline.
    const json = JSON.stringify(toExternalMessage(message)) + '\n';
    const owners = new Set<StreamSockets>();
    for (const id of ids) owners.add(this.streams.get(id)!.owner);
    for (const owner of owners) owner.send(message.userId, json);
  }

  /** Closes the user's streams that match (1000, normal closure). */
  private closeWhere(userId: number, match: (s: OpenStream) => boolean): void {
    const byOwner = new Map<StreamSockets, number[]>();
    for (const id of [...(this.byUser.get(userId) ?? [])]) {
      const s = this.streams.get(id)!;
      if (!match(s)) continue;
      this.forget(id);
      byOwner.set(s.owner, [...(byOwner.get(s.owner) ?? []), id]);
    }
    for (const [owner, ids] of byOwner) owner.close(ids, 1000, '');
  }

  private forget(id: number): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.streams.delete(id);
    const ids = this.byUser.get(s.userId)!;
    ids.delete(id);
    if (ids.size === 0) this.byUser.delete(s.userId);
  }

  /** True when the user has an open stream (other replicas' messages are read only for such users). */
  has(userId: number): boolean {
    return this.byUser.has(userId);
  }

  /** The users with an open stream. */
  userIds(): number[] {
    return [...this.byUser.keys()];
  }

  /** Number of open streams, for tests and diagnostics. */
  count(userId?: number): number {
    return userId === undefined ? this.streams.size : (this.byUser.get(userId)?.size ?? 0);
  }

  /** The distinct client tokens of all open streams (Gotify's CollectConnectedClientTokens). */
  connectedTokens(): string[] {
    const tokens = new Set<string>();
    for (const s of this.streams.values()) if (s.token) tokens.add(s.token);
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
      const id = this.nextId++;
      const owner = this.streamProcess?.canAdopt(socket) ? this.streamProcess : this.local;
      this.streams.set(id, { userId: auth.userId, token: auth.token, owner });
      let ids = this.byUser.get(auth.userId);
      if (!ids) this.byUser.set(auth.userId, (ids = new Set()));
      ids.add(id);
      owner.adopt(id, auth.userId, handshakeOf(req), socket, head);
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

  /** Closes every stream (server shutdown, 1001 going away) once what is queued went out. Safe to call twice. */
  async close(): Promise<void> {
    clearInterval(this.lastUsedTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    this.streams.clear();
    this.byUser.clear();
    await Promise.all([this.local.shutdown(), this.streamProcess?.shutdown()]);
  }
}
