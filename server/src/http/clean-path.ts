import type { FlowMiddleware } from './state.js';

/**
 * Collapses repeated slashes before routing, as Gotify's `RemoveExtraSlash` does: scripts that
 * build `$GOTIFY_URL/message` from a URL ending in `/` send `//message`, which Gotify serves.
 * Only the routed path changes; the access log keeps the original URL.
 */
export function cleanPath(): FlowMiddleware {
  // Not async: nothing to await of its own, so no extra promise per request.
  return (ctx, next) => {
    if (ctx.path.includes('//')) ctx.path = ctx.path.replace(/\/{2,}/g, '/');
    return next();
  };
}
