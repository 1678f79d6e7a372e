import type { Readable, Writable } from 'node:stream';
import { CANCEL_REQUEST_METHOD, ErrorCodes, FrameDecoder, checkMessageShape, type FramingError } from '@flow/protocol';

/**
 * A small symmetric JSON-RPC 2.0 peer over Content-Length frames, used by the plugin side
 * (serve.ts) and by the test host (testing.ts).
 *
 * Why not vscode-jsonrpc's connection: it handles one message per setImmediate and writes
 * each message separately, which caps a plugin at ~25% of what the pipe can carry. Here every
 * message of a read chunk is dispatched at once, and every frame produced in one turn of the
 * event loop goes out in a single write.
 */

export type RequestId = number | string;

/** An error that crosses the wire as a JSON-RPC error response (`code`, `message`, `data`). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

export interface IncomingRequest {
  id: RequestId;
  method: string;
  params: unknown;
  /** Aborted by `$/cancelRequest` for this id, or when the connection closes. */
  signal: AbortSignal;
}

/**
 * A problem with what the other side sent, or with the pipe; the peer has recovered (answering
 * what can be answered) and keeps serving.
 */
export interface PeerProblem {
  kind: 'framing' | 'invalid-message' | 'unexpected-response' | 'truncated' | 'write-failed';
  message: string;
}

export interface PeerHandlers {
  /** Returns the result or throws (an RpcError keeps its code; anything else is InternalError). */
  request(request: IncomingRequest): unknown;
  notification(method: string, params: unknown): void;
  problem(problem: PeerProblem): void;
  /** The input ended or failed; pending outgoing requests have been rejected. Called once. */
  close(): void;
}

export interface PeerOptions {
  input: Readable;
  output: Writable;
  /** Writes to `output`; default `output.write`. */
  write?: (data: string, callback?: () => void) => boolean;
  maxFrameBytes: number;
  handlers: PeerHandlers;
  /** Sees every message sent and every JSON value received (test host: recording and schema checks). */
  trace?(direction: 'sent' | 'received', message: unknown): void;
}

export interface RequestOptions {
  /** Fail with Timeout and send `$/cancelRequest` after this long. */
  timeoutMs?: number;
  /** Aborting fails the call with RequestCancelled and sends `$/cancelRequest`. */
  signal?: AbortSignal;
}

/**
 * A request being answered. Its AbortController is made only when a handler asks for the
 * signal: at tens of thousands of requests a second, one per request costs more than the rest
 * of the dispatch.
 */
class Running implements IncomingRequest {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  constructor(
    readonly id: RequestId,
    readonly method: string,
    readonly params: unknown,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
  abortListener: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

/** One side of a JSON-RPC connection over a pair of streams: answers requests, sends its own, matches responses. */
export class Peer {
  private readonly decoder: FrameDecoder;
  /** Requests we are answering, by id; absent once answered (or answered early by a cancel). */
  private readonly running = new Map<RequestId, Running>();
  /** Requests we sent, by id. */
  private readonly pending = new Map<RequestId, Pending>();
  private nextId = 1;
  /**
   * A response bigger than this is replaced by a PluginError naming the sizes (spec §2.3: the
   * other side would skip it and its caller would wait for a timeout). Requests and notifications
   * are not checked: the caller gets the other side's FrameTooLarge answer.
   */
  maxOutgoingFrameBytes = Number.POSITIVE_INFINITY;
  private queue: string[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly output: Writable;
  /** Given by runPlugin: `process.stdout.write` itself is redirected to stderr for everyone else. */
  private readonly write: (data: string, callback?: () => void) => boolean;
  private readonly handlers: PeerHandlers;
  private readonly trace: PeerOptions['trace'];

  constructor(options: PeerOptions) {
    this.output = options.output;
    this.write = options.write ?? (options.output.write.bind(options.output) as (data: string, callback?: () => void) => boolean);
    this.handlers = options.handlers;
    this.trace = options.trace;
    this.decoder = new FrameDecoder(
      { message: (value) => this.receive(value), error: (error) => this.onFramingError(error) },
      { maxFrameBytes: options.maxFrameBytes },
    );
    options.input.on('data', (chunk: Buffer | string) => {
      // After close (exit, a broken pipe) nothing more is dispatched, even if bytes still arrive.
      if (!this.closed) this.decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    options.input.on('end', () => this.onInputEnd());
    options.input.on('close', () => this.onInputEnd());
    options.input.on('error', () => this.onInputEnd());
    // A host that died leaves a broken pipe; that is the same as EOF, not a crash.
    this.output.on('error', (error) => {
      this.handlers.problem({ kind: 'write-failed', message: `cannot write to the other side: ${error.message}` });
      this.onInputEnd();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a request and waits for its result; rejects with an RpcError. */
  request(method: string, params: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new RpcError(ErrorCodes.TransportClosed, `cannot call ${method}: the connection is closed`));
    if (options.signal?.aborted) return Promise.reject(new RpcError(ErrorCodes.RequestCancelled, `${method} was cancelled`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = { method, resolve, reject, timer: undefined, abortListener: undefined, signal: options.signal };
      if (options.timeoutMs !== undefined) {
        const timeoutMs = options.timeoutMs;
        entry.timer = setTimeout(() => this.giveUp(id, new RpcError(ErrorCodes.Timeout, `${method} got no answer within ${timeoutMs} ms`, { timeoutMs })), timeoutMs);
      }
      if (options.signal) {
        entry.abortListener = () => this.giveUp(id, new RpcError(ErrorCodes.RequestCancelled, `${method} was cancelled`));
        options.signal.addEventListener('abort', entry.abortListener, { once: true });
      }
      this.pending.set(id, entry);
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    if (this.closed) return;
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** Writes everything queued now and resolves once the bytes are handed to the OS. Safe to call twice. */
  flush(): Promise<void> {
    const data = this.takeQueue();
    return new Promise((resolve) => {
      if (!data || this.output.destroyed || this.output.writableEnded) return resolve();
      this.write(data, () => resolve());
    });
  }

  /** Stops reading, fails pending calls with TransportClosed and aborts running handlers. Safe to call twice. */
  close(): void {
    this.onInputEnd();
  }

  private send(message: object): void {
    this.trace?.('sent', message);
    let json: string;
    try {
      json = JSON.stringify(message);
    } catch (error) {
      // A result that cannot be serialised (a cycle, a BigInt) must still get an answer.
      const id = (message as { id?: RequestId }).id ?? null;
      json = JSON.stringify({ jsonrpc: '2.0', id, error: { code: ErrorCodes.InternalError, message: `result cannot be sent as JSON: ${(error as Error).message}` } });
    }
    let length = json.length > this.maxOutgoingFrameBytes / 3 ? Buffer.byteLength(json, 'utf8') : -1;
    if (length > this.maxOutgoingFrameBytes && 'id' in message && !('method' in message)) {
      const id = (message as { id: RequestId }).id;
      json = JSON.stringify({ jsonrpc: '2.0', id, error: { code: ErrorCodes.PluginError, message: `the answer is ${length} bytes, over the ${this.maxOutgoingFrameBytes}-byte frame limit`, data: { limitBytes: this.maxOutgoingFrameBytes, frameBytes: length } } });
      length = -1;
    }
    if (length < 0) length = Buffer.byteLength(json, 'utf8');
    this.queue.push(`Content-Length: ${length}\r\n\r\n${json}`);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        const data = this.takeQueue();
        if (data && !this.output.destroyed && !this.output.writableEnded) this.write(data);
      });
    }
  }

  private takeQueue(): string {
    if (this.queue.length === 0) return '';
    const data = this.queue.length === 1 ? this.queue[0]! : this.queue.join('');
    this.queue = [];
    return data;
  }

  private receive(value: unknown): void {
    this.trace?.('received', value);
    const shape = checkMessageShape(value);
    if (shape) {
      this.handlers.problem({ kind: 'invalid-message', message: shape.message });
      // Only what could be a request is answered: answering a malformed response would ping-pong forever.
      if (shape.respond) this.send(shape.toResponse());
      return;
    }
    const message = value as Record<string, unknown>;
    if (typeof message.method === 'string') {
      if (message.id === undefined) return this.onNotification(message.method, message.params);
      return this.onRequest(message.id as RequestId, message.method, message.params);
    }
    this.onResponse(message);
  }

  private onRequest(id: RequestId, method: string, params: unknown): void {
    if (this.running.has(id)) {
      this.handlers.problem({ kind: 'invalid-message', message: `request id ${JSON.stringify(id)} is already in use` });
      return this.send({ jsonrpc: '2.0', id, error: { code: ErrorCodes.InvalidRequest, message: `request id ${JSON.stringify(id)} is already in use by a running request` } });
    }
    const request = new Running(id, method, params);
    this.running.set(id, request);
    let result: unknown;
    try {
      result = this.handlers.request(request);
    } catch (error) {
      return this.answer(request, undefined, error);
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.answer(request, value, undefined),
        (error: unknown) => this.answer(request, undefined, error ?? new Error('rejected')),
      );
    } else this.answer(request, result, undefined);
  }

  private answer(request: Running, result: unknown, error: unknown): void {
    const id = request.id;
    // A cancelled request was already answered with RequestCancelled; its late result is dropped.
    if (this.running.get(id) !== request) return;
    this.running.delete(id);
    if (error === undefined) return this.send({ jsonrpc: '2.0', id, result: result ?? null });
    const wire = error instanceof RpcError ? error.toJSON() : { code: ErrorCodes.InternalError, message: error instanceof Error ? error.message : String(error) };
    this.send({ jsonrpc: '2.0', id, error: wire });
  }

  private onNotification(method: string, params: unknown): void {
    if (method === CANCEL_REQUEST_METHOD) {
      const id = (params as { id?: unknown } | null)?.id;
      if (typeof id !== 'number' && typeof id !== 'string') return;
      const request = this.running.get(id);
      if (!request) return;
      this.running.delete(id);
      request.abort(new RpcError(ErrorCodes.RequestCancelled, 'the request was cancelled'));
      this.send({ jsonrpc: '2.0', id, error: { code: ErrorCodes.RequestCancelled, message: 'the request was cancelled' } });
      return;
    }
    this.handlers.notification(method, params);
  }

  private onResponse(message: Record<string, unknown>): void {
    const id = message.id as RequestId;
    const entry = this.pending.get(id);
    if (!entry) {
      this.handlers.problem({ kind: 'unexpected-response', message: `response to unknown request id ${JSON.stringify(id)}` });
      return;
    }
    this.settle(id, entry);
    if ('error' in message && message.error !== undefined) {
      const error = message.error as { code?: unknown; message?: unknown; data?: unknown } | null;
      const code = typeof error?.code === 'number' ? error.code : ErrorCodes.InternalError;
      const text = typeof error?.message === 'string' ? error.message : `${entry.method} failed`;
      entry.reject(new RpcError(code, text, error?.data));
    } else entry.resolve(message.result);
  }

  private giveUp(id: RequestId, error: RpcError): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.settle(id, entry);
    this.notify(CANCEL_REQUEST_METHOD, { id });
    entry.reject(error);
  }

  private settle(id: RequestId, entry: Pending): void {
    this.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.abortListener) entry.signal?.removeEventListener('abort', entry.abortListener);
  }

  private onFramingError(error: FramingError): void {
    this.handlers.problem({ kind: 'framing', message: error.message });
    if (error.respond) this.send(error.toResponse());
  }

  private onInputEnd(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.decoder.hasPartialFrame) this.handlers.problem({ kind: 'truncated', message: `the input ended inside a frame (${this.decoder.bufferedBytes} bytes unread)` });
    for (const [id, entry] of this.pending) {
      this.settle(id, entry);
      entry.reject(new RpcError(ErrorCodes.TransportClosed, `${entry.method}: the connection closed before the answer arrived`));
    }
    for (const request of this.running.values()) request.abort(new RpcError(ErrorCodes.TransportClosed, 'the connection closed'));
    this.handlers.close();
  }
}
