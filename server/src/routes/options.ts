import type { FlowMiddleware } from '../http/state.js';
import { emptyOk } from './deps.js';

/**
 * Gotify registers `OPTIONS /*any` and answers 200 with an empty body. Only OPTIONS without a
 * cross-origin Origin get here: http/cors.ts answers preflights of allowed origins (204) and
 * refuses the others (403) first. Mounted after every router, so a route module that handles
 * OPTIONS itself (webhooks) still wins.
 */
export function optionsFallback(): FlowMiddleware {
  return async (ctx, next) => {
    if (ctx.method !== 'OPTIONS') return next();
    await next();
    if (ctx.status === 404 && ctx.body == null) emptyOk(ctx);
  };
}
