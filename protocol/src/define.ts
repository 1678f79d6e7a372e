import { NotificationType, RequestType } from 'vscode-jsonrpc/node';
import type { z } from 'zod';
import type { Capability } from './capabilities.js';

/** Who sends a message: the server (host) or the plugin process. */
export type Direction = 'hostToPlugin' | 'pluginToHost';

/**
 * A request method: its name, direction, the zod schemas of params and result, and a
 * vscode-jsonrpc `RequestType` so `sendRequest`/`onRequest` are type-checked without
 * code generation. The zod schemas are the single source for the JSON Schemas in
 * spec/schemas/ (generated, never hand-edited).
 */
export interface RequestDefinition<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly kind: 'request';
  readonly method: string;
  readonly direction: Direction;
  readonly params: P;
  readonly result: R;
  /** The capability a plugin must declare for the host to send this (host → plugin), or to be allowed to call it (plugin → host). */
  readonly capability?: Capability;
  /** How long the sender waits by default before it cancels and fails with Timeout. Hosts may configure it. */
  readonly defaultTimeoutMs: number;
  /** Protocol version that introduced the method. */
  readonly since: string;
  readonly type: RequestType<z.infer<P>, z.infer<R>, unknown>;
}

/** A notification method: no response, no deadline. */
export interface NotificationDefinition<P extends z.ZodType = z.ZodType> {
  readonly kind: 'notification';
  readonly method: string;
  readonly direction: Direction;
  readonly params: P;
  readonly capability?: Capability;
  readonly since: string;
  readonly type: NotificationType<z.infer<P>>;
}

export type MethodDefinition = RequestDefinition | NotificationDefinition;

export function defineRequest<P extends z.ZodType, R extends z.ZodType>(
  definition: Omit<RequestDefinition<P, R>, 'kind' | 'type'>,
): RequestDefinition<P, R> {
  return { kind: 'request', ...definition, type: new RequestType<z.infer<P>, z.infer<R>, unknown>(definition.method) };
}

export function defineNotification<P extends z.ZodType>(
  definition: Omit<NotificationDefinition<P>, 'kind' | 'type'>,
): NotificationDefinition<P> {
  return { kind: 'notification', ...definition, type: new NotificationType<z.infer<P>>(definition.method) };
}

/** Params of a request or notification, by definition: `ParamsOf<typeof InstanceCreate>`. */
export type ParamsOf<D extends MethodDefinition> = z.infer<D['params']>;
/** Result of a request, by definition: `ResultOf<typeof DisplayGet>`. */
export type ResultOf<D extends RequestDefinition> = z.infer<D['result']>;
