import { maskUrl } from '../log.js';
import type { FlowMiddleware } from './state.js';

/**
 * One line per request: method, path (query tokens and webhook tokens masked), status, ms.
 * Headers are never logged, so X-Gotify-Key and Authorization cannot leak. Sits outside
 * error-body, so the logged status is the one sent.
 */
export function accessLog(): FlowMiddleware {
  return async (ctx, next) => {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      ctx.state.log.info(
        { method: ctx.method, path: maskUrl(ctx.originalUrl), status: ctx.status, ms: Math.round(ms * 100) / 100 },
        'request',
      );
    }
  };
}
