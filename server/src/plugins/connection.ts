import {
  ResponseError,
  type CancellationToken,
  type DataCallback,
  type Disposable,
  Message,
  createMessageConnection,
  type MessageConnection,
  type MessageReader,
  type MessageWriter,
} from 'vscode-jsonrpc/node';
import { ErrorCodes, errorCodeName, type NotificationDefinition, type ParamsOf, type RequestDefinition, type ResultOf } from '@flow/protocol';
import { FlowError, type FlowErrorCode } from '../errors.js';

/**
 * A failed call to a plugin is a FlowError whose code tells the caller which side failed:
 * - FLOW_ERR_PLUGIN_REJECTED: the plugin answered with an error (its `message` is for the user);
 * - FLOW_ERR_PLUGIN_TIMEOUT: no answer within the deadline (a `$/cancelRequest` was sent);
 * - FLOW_ERR_PLUGIN_CLOSED: the process went away before answering;
 * - FLOW_ERR_PLUGIN_NOT_RUNNING: the call was never sent (plugin starting, restarting, failed);
 * - FLOW_ERR_PLUGIN_BAD_RESPONSE: the answer does not match the protocol schema.
 * Its data is the JSON-RPC side: the wire error code and the error's data.
 */
export interface PluginCallData {
  wireCode: number;
  data?: unknown;
}

export type PluginCallError = FlowError & { data: PluginCallData };

export const pluginCallError = (code: FlowErrorCode, message: string, wireCode: number, data?: unknown): PluginCallError =>
  new FlowError(code, message, { data: { wireCode, data } }) as PluginCallError;

/** Unanswered plugin → host requests at which the host stops reading the plugin's stdout, and resumes. */
const INBOUND_HIGH = 4096;
const INBOUND_LOW = 1024;

export const isPluginCallError = (err: unknown): err is PluginCallError => err instanceof FlowError && err.code.startsWith('FLOW_ERR_PLUGIN_');

/**
 * What cancels a call early: an AbortSignal, or anything with the same two methods (the
 * webhook route adapts the HTTP response's 'close' event instead of allocating an
 * AbortController per request).
 */
export interface CancelSignal {
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface RequestOptions {
  /** Deadline in ms; on expiry `$/cancelRequest` is sent and the call fails with FLOW_ERR_PLUGIN_TIMEOUT. */
  timeoutMs: number;
  /** Firing it (e.g. the HTTP client went away) cancels the call the same way. */
  signal?: CancelSignal;
}

/** Handles one plugin → host request; throw a ResponseError to answer with a wire error. */
export type HostRequestHandler = (method: string, params: unknown) => Promise<unknown>;

/**
 * One request in flight. It doubles as the request's cancellation token: vscode-jsonrpc
 * accepts any object with `isCancellationRequested` and `onCancellationRequested`, and this
 * one costs a single allocation instead of CancellationTokenSource's emitter chain (a host
 * bringing up 30,000 instances sends 90,000 requests). Cancelling makes vscode-jsonrpc send
 * `$/cancelRequest`; the caller does not wait for the plugin to acknowledge it.
 */
const timedOut = (call: PendingCall): void => call.timedOut();

class PendingCall implements CancellationToken {
  isCancellationRequested = false;
  private onCancel: ((e: unknown) => unknown) | undefined;
  private aborted: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly set: Set<PendingCall>,
    private readonly def: RequestDefinition,
    private readonly opts: RequestOptions,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: PluginCallError) => void,
  ) {
    set.add(this);
    // Extra setTimeout arguments instead of a bound closure: one allocation less per call.
    this.timer = setTimeout(timedOut, opts.timeoutMs, this);
    if (opts.signal) {
      this.aborted = () => this.cancel(pluginCallError('FLOW_ERR_PLUGIN_TIMEOUT', `${def.method} was cancelled by the caller`, ErrorCodes.RequestCancelled));
      opts.signal.addEventListener('abort', this.aborted, { once: true });
    }
  }

  onCancellationRequested(listener: (e: unknown) => unknown): Disposable {
    this.onCancel = listener;
    return this;
  }

  /** vscode-jsonrpc disposes the cancellation listener when the answer arrives. */
  dispose(): void {
    this.onCancel = undefined;
  }

  answered(result: unknown): void {
    if (this.done) return;
    const parsed = this.def.result.safeParse(result);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'result'}: ${i.message}`).join('; ');
      this.fail(pluginCallError('FLOW_ERR_PLUGIN_BAD_RESPONSE', `the plugin answered ${this.def.method} with an invalid result: ${issues}`, ErrorCodes.InternalError));
      return;
    }
    this.finish();
    this.resolve(parsed.data);
  }

  fail(error: PluginCallError): void {
    if (this.done) return;
    this.finish();
    this.reject(error);
  }

  /** @internal the timer's callback */
  timedOut(): void {
    const ms = this.opts.timeoutMs;
    this.cancel(pluginCallError('FLOW_ERR_PLUGIN_TIMEOUT', `the plugin did not answer ${this.def.method} within ${ms} ms`, ErrorCodes.Timeout, { timeoutMs: ms }));
  }

  private cancel(error: PluginCallError): void {
    if (this.done) return;
    this.isCancellationRequested = true;
    try {
      this.onCancel?.(undefined);
    } catch {
      // The connection closed meanwhile: there is nobody left to tell.
    }
    this.fail(error);
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
    if (this.aborted) this.opts.signal?.removeEventListener('abort', this.aborted);
    this.set.delete(this);
  }
}

/**
 * The typed host side of one plugin process's JSON-RPC connection.
 *
 * vscode-jsonrpc leaves requests pending forever when the peer dies
 * (microsoft/vscode-languageserver-node#1621); this wrapper keeps its own set of pending
 * calls and rejects all of them with FLOW_ERR_PLUGIN_CLOSED the moment `close()` runs, so a
 * crash fails every in-flight webhook at once instead of at its deadline. Results are
 * checked against the protocol's zod schema: a plugin cannot hand the host a malformed value.
 */
export class PluginConnection {
  private readonly conn: MessageConnection;
  private readonly writer: MessageWriter;
  private readonly pending = new Set<PendingCall>();
  private closedReason: string | undefined;

  /** The reader's callback into vscode-jsonrpc, kept to hand it answers a frame could not carry. */
  private deliver: DataCallback | undefined;

  /** Plugin → host requests read and not yet answered (queued in vscode-jsonrpc or running). */
  private unanswered = 0;
  private paused = false;

  /**
   * `inbound` pauses and resumes reading the plugin's output. vscode-jsonrpc runs at most
   * 1024 plugin → host requests at once but queues the rest without limit; past
   * INBOUND_HIGH unanswered requests the host stops reading, so a plugin writing requests
   * faster than they are served waits in its own pipe instead of in the host's memory.
   */
  constructor(
    reader: MessageReader,
    writer: MessageWriter,
    onHostRequest: HostRequestHandler,
    onNotification: (method: string, params: unknown) => void,
    private readonly inbound?: { pause(): void; resume(): void },
  ) {
    const tap: MessageReader = {
      onError: reader.onError,
      onClose: reader.onClose,
      onPartialMessage: reader.onPartialMessage,
      listen: (callback) => {
        this.deliver = callback;
        return reader.listen((message) => {
          if (Message.isRequest(message) && ++this.unanswered >= INBOUND_HIGH && !this.paused) {
            this.paused = true;
            this.inbound?.pause();
          }
          callback(message);
        });
      },
      dispose: () => reader.dispose(),
    };
    // Every answer to a plugin request passes here, including those vscode-jsonrpc writes itself
    // (a request cancelled while queued), so the count cannot drift.
    const counted: MessageWriter = {
      onError: writer.onError,
      onClose: writer.onClose,
      write: (message) => {
        if (Message.isResponse(message) && --this.unanswered <= INBOUND_LOW && this.paused) {
          this.paused = false;
          this.inbound?.resume();
        }
        return writer.write(message);
      },
      end: () => writer.end(),
      dispose: () => writer.dispose(),
    };
    // maxParallelism makes vscode-jsonrpc resolve responses synchronously in the reader
    // callback instead of one per setImmediate (bench/README.md, "Protocol"): a large win for webhooks.
    this.writer = counted;
    this.conn = createMessageConnection(tap, counted, undefined, { maxParallelism: 1024 });
    this.conn.onRequest((method, params) => onHostRequest(method, params));
    this.conn.onNotification((method, params) => onNotification(method, params));
    this.conn.listen();
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Sends a request; never hangs longer than `timeoutMs`, never outlives the connection. */
  request<D extends RequestDefinition>(def: D, params: ParamsOf<D>, opts: RequestOptions): Promise<ResultOf<D>> {
    if (this.closedReason !== undefined) {
      return Promise.reject(pluginCallError('FLOW_ERR_PLUGIN_CLOSED', this.closedReason, ErrorCodes.TransportClosed));
    }
    return new Promise<ResultOf<D>>((resolve, reject) => {
      const call = new PendingCall(this.pending, def, opts, resolve as (v: unknown) => void, reject);
      try {
        this.conn.sendRequest(def.type, params, call).then(
          (result) => call.answered(result),
          (error: unknown) => call.fail(this.toCallError(def.method, error)),
        );
      } catch (error) {
        // vscode-jsonrpc throws synchronously once it has seen the stream close (before our exit handler ran).
        call.fail(this.toCallError(def.method, error));
      }
    });
  }

  /** Sends a notification; silently dropped once the connection is closed (nobody is listening). */
  notify<D extends NotificationDefinition>(def: D, params: ParamsOf<D>): void {
    if (this.closedReason !== undefined) return;
    try {
      this.conn.sendNotification(def.type, params).catch(() => undefined);
    } catch {
      // Closed underneath us: the process is going away and its exit is handled elsewhere.
    }
  }

  /** Number of calls waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * The plugin answered request `id` with a frame over the size limit, which the reader
   * skipped unread: fail that call now (FLOW_ERR_PLUGIN_BAD_RESPONSE, a webhook gets 502)
   * instead of at its deadline. An id that is no longer pending is ignored.
   */
  oversizedAnswer(id: number | string, frameBytes: number, limitBytes: number): void {
    if (this.closedReason !== undefined) return;
    const message = `the plugin's answer was ${frameBytes} bytes, over the ${limitBytes}-byte frame limit (plugins.maxframebytes); it was skipped`;
    this.deliver?.({ jsonrpc: '2.0', id, error: { code: ErrorCodes.FrameTooLarge, message, data: { limitBytes, frameBytes } } } as Message);
  }

  /** Rejects every pending call with FLOW_ERR_PLUGIN_CLOSED and releases the connection. Safe to call twice. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const error = pluginCallError('FLOW_ERR_PLUGIN_CLOSED', reason, ErrorCodes.TransportClosed);
    for (const call of [...this.pending]) call.fail(error);
    // Frames written in this tick (the `exit` notification of the stop sequence) are still in
    // the writer's batch: flush them and close the plugin's stdin now, or the process would see
    // EOF without ever reading `exit`.
    this.writer.end();
    this.conn.dispose();
  }

  private toCallError(method: string, error: unknown): PluginCallError {
    if (error instanceof ResponseError && error.code === ErrorCodes.FrameTooLarge) {
      // Not a refusal: the answer (or the request) did not fit in a frame.
      return pluginCallError('FLOW_ERR_PLUGIN_BAD_RESPONSE', error.message || `${method}: frame too large`, error.code, error.data);
    }
    if (error instanceof ResponseError) {
      return pluginCallError('FLOW_ERR_PLUGIN_REJECTED', error.message || `${method} failed (${errorCodeName(error.code)})`, error.code, error.data);
    }
    const reason = this.closedReason ?? `the connection to the plugin failed during ${method}: ${(error as Error)?.message ?? String(error)}`;
    return pluginCallError('FLOW_ERR_PLUGIN_CLOSED', reason, ErrorCodes.TransportClosed);
  }
}
