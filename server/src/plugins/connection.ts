import {
  CancellationTokenSource,
  ResponseError,
  createMessageConnection,
  type MessageConnection,
  type MessageReader,
  type MessageWriter,
} from 'vscode-jsonrpc/node';
import { ErrorCodes, errorCodeName, type NotificationDefinition, type ParamsOf, type RequestDefinition, type ResultOf } from '@flow/protocol';
import { FlowError, type FlowErrorCode } from '../errors.js';

/**
 * A failed call to a plugin. `code` tells the caller which side failed:
 * - FLOW_ERR_PLUGIN_REJECTED: the plugin answered with an error (`wireCode`, its `message` is for the user);
 * - FLOW_ERR_PLUGIN_TIMEOUT: no answer within the deadline (a `$/cancelRequest` was sent);
 * - FLOW_ERR_PLUGIN_CLOSED: the process went away before answering;
 * - FLOW_ERR_PLUGIN_NOT_RUNNING: the call was never sent (plugin starting, restarting, failed);
 * - FLOW_ERR_PLUGIN_BAD_RESPONSE: the answer does not match the protocol schema.
 */
export class PluginCallError extends FlowError {
  constructor(
    code: FlowErrorCode,
    message: string,
    readonly wireCode: number,
    readonly data?: unknown,
  ) {
    super(code, message);
    this.name = 'PluginCallError';
  }
}

export const isPluginCallError = (err: unknown): err is PluginCallError => err instanceof PluginCallError;

export interface RequestOptions {
  /** Deadline in ms; on expiry `$/cancelRequest` is sent and the call fails with FLOW_ERR_PLUGIN_TIMEOUT. */
  timeoutMs: number;
  /** Aborting (e.g. the HTTP client went away) cancels the call the same way. */
  signal?: AbortSignal;
}

/** Handles one plugin → host request; throw a ResponseError to answer with a wire error. */
export type HostRequestHandler = (method: string, params: unknown) => Promise<unknown>;

interface Pending {
  reject: (error: PluginCallError) => void;
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
  private readonly pending = new Set<Pending>();
  private closedReason: string | undefined;

  constructor(reader: MessageReader, writer: MessageWriter, onHostRequest: HostRequestHandler, onNotification: (method: string, params: unknown) => void) {
    // maxParallelism makes vscode-jsonrpc resolve responses synchronously in the reader
    // callback instead of one per setImmediate (.notes/protocol.md): a large win for webhooks.
    this.conn = createMessageConnection(reader, writer, undefined, { maxParallelism: 1024 });
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
      return Promise.reject(new PluginCallError('FLOW_ERR_PLUGIN_CLOSED', this.closedReason, ErrorCodes.TransportClosed));
    }
    const cts = new CancellationTokenSource();
    return new Promise<ResultOf<D>>((resolve, reject) => {
      let done = false;
      const finish = () => {
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(entry);
        cts.dispose();
      };
      const entry: Pending = {
        reject: (error) => {
          if (done) return;
          finish();
          reject(error);
        },
      };
      const cancel = (error: PluginCallError) => {
        if (done) return;
        // $/cancelRequest lets a well-behaved plugin drop the work; the caller does not wait for it.
        cts.cancel();
        entry.reject(error);
      };
      const onAbort = () => cancel(new PluginCallError('FLOW_ERR_PLUGIN_TIMEOUT', `${def.method} was cancelled by the caller`, ErrorCodes.RequestCancelled));
      const timer = setTimeout(
        () => cancel(new PluginCallError('FLOW_ERR_PLUGIN_TIMEOUT', `the plugin did not answer ${def.method} within ${opts.timeoutMs} ms`, ErrorCodes.Timeout, { timeoutMs: opts.timeoutMs })),
        opts.timeoutMs,
      );
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.add(entry);
      this.conn.sendRequest(def.type, params, cts.token).then(
        (result) => {
          if (done) return;
          const parsed = def.result.safeParse(result);
          if (!parsed.success) {
            entry.reject(
              new PluginCallError('FLOW_ERR_PLUGIN_BAD_RESPONSE', `the plugin answered ${def.method} with an invalid result: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'result'}: ${i.message}`).join('; ')}`, ErrorCodes.InternalError),
            );
            return;
          }
          finish();
          resolve(parsed.data as ResultOf<D>);
        },
        (error: unknown) => entry.reject(this.toCallError(def.method, error)),
      );
    });
  }

  /** Sends a notification; silently dropped once the connection is closed (nobody is listening). */
  notify<D extends NotificationDefinition>(def: D, params: ParamsOf<D>): void {
    if (this.closedReason !== undefined) return;
    this.conn.sendNotification(def.type, params).catch(() => undefined);
  }

  /** Number of calls waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Rejects every pending call with FLOW_ERR_PLUGIN_CLOSED and releases the connection. Safe to call twice. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const error = new PluginCallError('FLOW_ERR_PLUGIN_CLOSED', reason, ErrorCodes.TransportClosed);
    for (const entry of [...this.pending]) entry.reject(error);
    this.conn.dispose();
  }

  private toCallError(method: string, error: unknown): PluginCallError {
    if (error instanceof ResponseError) {
      return new PluginCallError('FLOW_ERR_PLUGIN_REJECTED', error.message || `${method} failed (${errorCodeName(error.code)})`, error.code, error.data);
    }
    const reason = this.closedReason ?? `the connection to the plugin failed during ${method}: ${(error as Error)?.message ?? String(error)}`;
    return new PluginCallError('FLOW_ERR_PLUGIN_CLOSED', reason, ErrorCodes.TransportClosed);
  }
}
