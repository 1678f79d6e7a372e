import { FlowError, errorBody } from '../errors.js';
import { TooManyLogins } from '../services/login-throttle.js';
import type { FlowMiddleware } from './state.js';

/**
 * The outermost try/catch: every error leaves as Gotify's `{error, errorCode, errorDescription}`
 * body, and an unmatched route as 404 "page not found". Unexposed errors (bugs, I/O failures)
 * are logged here, once, and answered with a generic 500.
 */
export function errorBodies(): FlowMiddleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null && ctx.respond !== false) {
        ctx.status = 404;
        ctx.body = errorBody(404, 'page not found');
      }
    } catch (err) {
      let status = 500;
      let description = 'internal server error';
      let details: Record<string, unknown> | undefined;
      if (err instanceof FlowError) {
        // The one mapping of the error model to HTTP: the status of its kind, its text when exposed.
        status = err.status;
        if (err.expose) {
          description = err.message;
          details = err.details;
        } else ctx.state.log.error({ err }, 'request failed');
        if (err instanceof TooManyLogins) ctx.set('Retry-After', String(err.retryAfterSeconds));
        // The database refuses writes until it is reopened (store/db.ts): retry later, as a 503 says.
        if (err.code === 'FLOW_ERR_STORE_UNAVAILABLE') ctx.set('Retry-After', '5');
      } else {
        // koa / body-parsing errors carry status + expose like ours.
        const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string };
        const s = e.status ?? e.statusCode;
        if (typeof s === 'number' && s >= 400 && s < 600 && e.expose) {
          status = s;
          description = e.message ?? description;
        } else {
          ctx.state.log.error({ err }, 'request failed');
        }
      }
      ctx.status = status;
      ctx.body = { ...details, ...errorBody(status, description) };
      ctx.type = 'application/json';
    }
  };
}
