import type { FlowMiddleware } from './state.js';

/**
 * One hot route answered ahead of the routers: `method` and exactly `path` (after clean-path)
 * run `guard` then `handler`; every other request goes on untouched. @koa/router matches every
 * route of a router, builds and composes a chain per request; for POST /message, the path most
 * requests take, that was a measurable share of its CPU (bench/README.md, "HTTP"). The route
 * stays registered on its router too, which still answers its other spellings (`/message/`).
 */
export function exactRoute(method: string, path: string, guard: FlowMiddleware, handler: FlowMiddleware): FlowMiddleware {
  return (ctx, next) => (ctx.method === method && ctx.path === path ? guard(ctx, () => handler(ctx, next)) : next());
}
