import type { ParameterizedContext, Middleware } from 'koa';
import type { Logger } from '../log.js';
import type { UserRecord } from '../model/user.js';
import type { ClientRecord } from '../model/client.js';
import type { ApplicationRecord } from '../model/application.js';

/** Who made the request, set by the auth middleware. */
export interface AuthInfo {
  userId: number;
  /** Set when the caller used HTTP Basic. */
  user?: UserRecord;
  /** The token the caller sent ('' with Basic), used e.g. to close a client's streams. */
  token: string;
  client?: ClientRecord;
  application?: ApplicationRecord;
}

/** `ctx.state` of every Flow request. */
export interface FlowState {
  reqId: string;
  /** Request-scoped child logger (bound to reqId), created on first use (http/request-id.ts). */
  log: Logger;
  auth?: AuthInfo;
}

export type FlowContext = ParameterizedContext<FlowState>;
export type FlowMiddleware = Middleware<FlowState>;

/** The authenticated caller; for handlers behind an auth middleware. */
export function authOf(ctx: FlowContext): AuthInfo {
  if (!ctx.state.auth) throw new Error('route is missing its auth middleware');
  return ctx.state.auth;
}
