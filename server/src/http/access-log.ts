import { maskUrl, type Logger } from '../log.js';
import type { FlowMiddleware } from './state.js';

/**
 * One line per request: reqId, method, path (query tokens and webhook tokens masked), status, ms.
 * Headers are never logged, so X-Gotify-Key and Authorization cannot leak. Sits outside
 * error-body, so the logged status is the one sent.
 *
 * Written on the root logger with `reqId` as a field: the line is the same as through the
 * request's child logger (pino puts bindings first), without creating that child per request.
 * When info is off (tests, benchmarks, `log.level: warn`) the request is not even timed.
 */
export function accessLog(root: Logger): FlowMiddleware {
  return async (ctx, next) => {
    if (!root.isLevelEnabled('info')) return next();
    const start = performance.now();
    try {
      await next();
    } finally {
      root.info(
        {
          reqId: ctx.state.reqId,
          method: ctx.method,
          path: maskUrl(ctx.originalUrl),
          status: ctx.status,
          ms: Math.round((performance.now() - start) * 100) / 100,
        },
        'request',
      );
    }
  };
}
