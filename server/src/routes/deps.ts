import { Router } from '@koa/router';
import { badRequest } from '../errors.js';
import type { Auth } from '../http/auth.js';
import type { FlowContext, FlowState } from '../http/state.js';
import type { UserService } from '../services/user.js';
import type { ClientService } from '../services/client.js';
import type { ApplicationService } from '../services/application.js';
import type { MessageService } from '../services/message.js';
import type { FlowConfig } from '../config/keys.js';

/** What route modules receive from app.ts. Add a field here when a new service appears. */
export interface RouteDeps {
  config: FlowConfig;
  auth: Auth;
  users: UserService;
  clients: ClientService;
  applications: ApplicationService;
  messages: MessageService;
  /** <datadir>/images */
  imagesDir: string;
  /** What GET /version answers (also GET /gotifyinfo). */
  version: { version: string; commit: string; buildDate: string };
}

export type FlowRouter = Router<FlowState>;
/** Paths match case-sensitively, as in Gotify (gin): `/VERSION` is a 404, not an alias. */
export const createRouter = (): FlowRouter => new Router<FlowState>({ sensitive: true });

/** Gotify's withID: a non-negative integer path parameter, else 400 "invalid id". */
export function idParam(ctx: FlowContext & { params?: Record<string, string> }, name = 'id'): number {
  const raw = ctx.params?.[name] ?? '';
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw badRequest('invalid id');
  return id;
}

/** 200 with an empty body and Content-Type application/json, as Gotify's handlers that write nothing. */
export function emptyOk(ctx: FlowContext): void {
  ctx.status = 200;
  ctx.body = '';
  ctx.type = 'application/json';
}
